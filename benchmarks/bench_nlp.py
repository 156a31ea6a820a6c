"""Fine-tuning throughput: ltx (Lightning) against ``transformers.Trainer``, side by side.

Same model (the packaged all-MiniLM-L6-v2 with a fresh classification head), same data
(the packaged SST-2 subset, tokenised once), same batch size, maximum length, optimizer
(AdamW, constant learning rate, fp32), threads and number of steps. For the head-to-head
both pad every batch to max_length, so each step does identical work whatever order the
two shuffles put the examples in: the difference is the frameworks' own overhead. Both
are timed the same way: from the end of the second training step to the end of the last,
data loading included (ltx reports this in summary.json; a Trainer callback measures the
same span).

Then what ltx's data layer adds, on the same run otherwise: dynamic padding (each batch
padded to its longest text), dynamic padding with length-grouped batches, and the
tokenisation cache (a second identical data setup).

    python benchmarks/bench_nlp.py [--steps 20] [--batch-size 16] [--max-length 64]

About three minutes on two CPU cores; on a GPU pass ``--accelerator gpu``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

log = logging.getLogger("bench_nlp")
SKIP = 2  # warm-up steps left out of every timing, as ltx's ThroughputMonitor does


def run_ltx(args: argparse.Namespace, workdir: Path, name: str, **dataset: Any) -> dict[str, Any]:
    """Fine-tune through ``ltx train``'s own code path; return its summary.json."""
    from ltx_core.resolve import resolve_config
    from ltx_core.training import train

    config = {
        "task": {"export_hf": False},
        "dataset": {"name": "sst2-sample", "batch_size": args.batch_size,
                    "max_length": args.max_length, "cache_dir": str(workdir / "cache"),
                    **dataset},
        "backbone": {"name": "minilm"},
        "optimizer": {"lr": 5e-5, "weight_decay": 0.0},
        "scheduler": {"name": "constant"},
        "trainer": {"accelerator": args.accelerator, "devices": 1, "max_steps": args.steps,
                    "limit_val_batches": 0, "limit_test_batches": 0,
                    "num_sanity_val_steps": 0, "enable_progress_bar": False,
                    "tensorboard": False, "log_every_n_steps": 10},
        "seed": 0,
        "output_dir": str(workdir / name),
    }  # fmt: skip
    run_dir = train(resolve_config("text-classification", config_data=config), overwrite=True)
    return json.loads((run_dir / "summary.json").read_text())


def run_trainer(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """The same fine-tuning through ``transformers.Trainer`` on the same tokenised data,
    padded to max_length as the ltx head-to-head run is."""
    import torch
    from ltx_nlp_hf.hub import embedded_model_path
    from transformers import (
        AutoModelForSequenceClassification,
        DataCollatorWithPadding,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    from ltx_core.build import build_datamodule, build_tokenizer
    from ltx_core.resolve import resolve_config

    resolved = resolve_config("text-classification", config_data={"dataset": {
        "name": "sst2-sample", "max_length": args.max_length, "cache_dir": str(workdir / "cache"),
    }})  # fmt: skip
    tokenizer = build_tokenizer(resolved)
    datamodule = build_datamodule(resolved, tokenizer)
    datamodule.setup("fit")  # a cache hit: ltx tokenised this data already
    train = datamodule.splits["train"]
    model = AutoModelForSequenceClassification.from_pretrained(
        str(embedded_model_path("sentence-transformers/all-MiniLM-L6-v2")), num_labels=2
    )

    class Timer(TrainerCallback):
        def __init__(self) -> None:
            self.ends: list[float] = []

        def on_step_end(self, *a: Any, **k: Any) -> None:
            if torch.cuda.is_available() and args.accelerator != "cpu":
                torch.cuda.synchronize()
            self.ends.append(time.perf_counter())

    timer = Timer()
    training_args = TrainingArguments(
        output_dir=str(workdir / "hf-trainer"), per_device_train_batch_size=args.batch_size,
        max_steps=args.steps, learning_rate=5e-5, weight_decay=0.0,
        lr_scheduler_type="constant", save_strategy="no", eval_strategy="no", report_to=[],
        logging_steps=10, dataloader_num_workers=0, disable_tqdm=True, seed=0,
        use_cpu=args.accelerator == "cpu",
    )  # fmt: skip
    trainer = Trainer(
        model=model, args=training_args, train_dataset=train,
        data_collator=DataCollatorWithPadding(
            tokenizer, padding="max_length", max_length=args.max_length
        ),
        callbacks=[timer],
    )  # fmt: skip
    trainer.train()
    measured = len(timer.ends) - SKIP
    seconds = timer.ends[-1] - timer.ends[SKIP - 1]
    return {"samples_per_s": measured * args.batch_size / seconds, "measured_batches": measured}


def time_data_setup(workdir: Path) -> tuple[float, float]:
    """Seconds to set up the SST-2 data cold (tokenising) and again (cache hit)."""
    from ltx_core.build import build_datamodule, build_tokenizer
    from ltx_core.resolve import resolve_config

    cache = workdir / "setup-cache"
    resolved = resolve_config("text-classification", config_data={
        "dataset": {"name": "sst2-sample", "cache_dir": str(cache)}})  # fmt: skip
    tokenizer = build_tokenizer(resolved)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        dm = build_datamodule(resolved, tokenizer)
        dm.setup("fit")
        times.append(time.perf_counter() - start)
    assert dm.cache_hit, "the second setup should have read the cache"
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="Optimizer steps per run.")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--accelerator", default="cpu", help="cpu or gpu.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in (
        "pytorch_lightning",
        "lightning",
        "ltx_core",
        "ltx_nlp_hf",
        "transformers",
        "datasets",
        "lightning_fabric",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    import torch

    log.info(
        "torch %s, %d threads, %s", torch.__version__, torch.get_num_threads(), args.accelerator
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        cold, warm = time_data_setup(workdir)
        fixed = run_ltx(args, workdir, "ltx-fixed", padding="max_length")["throughput"]
        hf = run_trainer(args, workdir)
        dynamic = run_ltx(args, workdir, "ltx-dynamic")["throughput"]
        grouped = run_ltx(args, workdir, "ltx-grouped", group_by_length=True)["throughput"]
        total = time.perf_counter() - started

    ratio = fixed["samples_per_s"] / hf["samples_per_s"]
    results = {
        "model": "all-MiniLM-L6-v2", "data": "sst2-sample (8,000 phrases)",
        "steps": args.steps, "batch_size": args.batch_size, "max_length": args.max_length,
        "ltx_samples_per_s": round(fixed["samples_per_s"], 2),
        "trainer_samples_per_s": round(hf["samples_per_s"], 2),
        "ltx_over_trainer": round(ratio, 3),
        "ltx_dynamic_padding_samples_per_s": round(dynamic["samples_per_s"], 2),
        "dynamic_padding_speedup": round(dynamic["samples_per_s"] / fixed["samples_per_s"], 2),
        "ltx_grouped_samples_per_s": round(grouped["samples_per_s"], 2),
        "grouped_speedup": round(grouped["samples_per_s"] / fixed["samples_per_s"], 2),
        "data_setup_cold_s": round(cold, 3), "data_setup_cached_s": round(warm, 3),
        "cache_speedup": round(cold / warm, 1), "wall_s": round(total, 1),
    }  # fmt: skip
    log.info(
        "padded to max_length=%d, batch %d, %d steps:", args.max_length, args.batch_size, args.steps
    )
    log.info("  ltx (Lightning)            %8.1f samples/s", results["ltx_samples_per_s"])
    log.info("  transformers.Trainer       %8.1f samples/s", results["trainer_samples_per_s"])
    log.info("  ratio ltx / Trainer        %8.3f  (target >= 1.0)", ratio)
    log.info("ltx data layer:")
    log.info(
        "  dynamic padding            %8.1f samples/s  (%.2fx)",
        results["ltx_dynamic_padding_samples_per_s"],
        results["dynamic_padding_speedup"],
    )
    log.info(
        "  + group_by_length          %8.1f samples/s  (%.2fx)",
        results["ltx_grouped_samples_per_s"],
        results["grouped_speedup"],
    )
    log.info("  data setup: cold %.2fs, from the cache %.2fs (%.0fx)", cold, warm, cold / warm)
    log.info("wall time %.0fs", total)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
