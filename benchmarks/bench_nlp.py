"""Fine-tuning throughput: ltx (Lightning) against ``transformers.Trainer``, side by side.

Same model (the packaged all-MiniLM-L6-v2 with a fresh classification head), same data
(the packaged SST-2 subset, tokenised once), same batch size, maximum length, optimizer
(AdamW, constant learning rate), precision (fp32, then bf16 autocast: Lightning's
``bf16-mixed`` against Trainer's ``bf16=True``), threads and number of steps. For the head-to-head
both pad every batch to max_length, so each step does identical work whatever order the
two shuffles put the examples in: the difference is the frameworks' own overhead.

The ltx side is what ``ltx train`` runs: the config resolved by the core, the pieces
built by ``ltx_core.engine.build``, the Lightning Trainer made by ``ltx_core.engine.training``. Both
sides are timed by the same kind of callback, from the end of the second step to the end
of the last (data loading included), in wall-clock seconds and in CPU seconds of this
process; the runs alternate (ltx, Trainer, ltx, Trainer, ...) and the best of each is
kept, so a busy machine slows both alike rather than whichever ran second.

Each precision's line also gives both sides' model FLOPs utilisation: the FLOPs of one
padded training step (counted on the ltx side; the Trainer's step is the same model on
the same shapes) times samples/s, against the device's peak (on a CPU, ltx's cached
matmul roofline).

Then what ltx's data layer adds on the same run: dynamic padding (each batch padded to
its longest text), dynamic padding with length-grouped batches, and the tokenisation
cache (a second identical data setup).

    python benchmarks/bench_nlp.py [--steps 12] [--rounds 2] [--batch-size 16] [--max-length 64]

About three minutes on two idle CPU cores; on a GPU pass ``--accelerator gpu``.
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


class Clock:
    """Wall and CPU time at the end of every step."""

    def __init__(self, accelerator: str) -> None:
        self.accelerator = accelerator
        self.marks: list[tuple[float, float]] = []

    def tick(self) -> None:
        import torch

        if self.accelerator != "cpu" and torch.cuda.is_available():
            torch.cuda.synchronize()
        self.marks.append((time.perf_counter(), time.process_time()))

    def rates(self, batch_size: int) -> dict[str, float]:
        (w0, c0), (w1, c1) = self.marks[SKIP - 1], self.marks[-1]
        samples = (len(self.marks) - SKIP) * batch_size
        return {"samples_per_s": samples / (w1 - w0), "samples_per_cpu_s": samples / (c1 - c0)}


def _resolved(args: argparse.Namespace, workdir: Path, name: str, **dataset: Any) -> Any:
    from ltx_core.config.resolve import resolve_config

    config = {
        "task": {"export_hf": False},
        "dataset": {"name": "sst2-sample", "batch_size": args.batch_size,
                    "max_length": args.max_length, "cache_dir": str(workdir / "cache"),
                    **dataset},
        "backbone": {"name": "minilm"},
        "optimizer": {"lr": 5e-5, "weight_decay": 0.0},
        "scheduler": {"name": "constant"},
        "trainer": {"accelerator": args.accelerator, "devices": 1, "max_steps": args.steps,
                    "precision": args.precision,
                    "limit_val_batches": 0, "limit_test_batches": 0,
                    "num_sanity_val_steps": 0, "enable_progress_bar": False,
                    "tensorboard": False, "log_every_n_steps": 10},
        "seed": 0,
        "output_dir": str(workdir / name),
    }  # fmt: skip
    return resolve_config("text-classification", config_data=config)


def run_ltx(args: argparse.Namespace, workdir: Path, name: str, **dataset: Any) -> dict[str, float]:
    """Fine-tune the way ``ltx train`` does, with a step clock added to its callbacks."""
    import pytorch_lightning as pl

    from ltx_core.engine.build import build_datamodule, build_task, build_tokenizer, dataset_handoff
    from ltx_core.engine.callbacks import ThroughputMonitor
    from ltx_core.engine.flops import FlopsCounter
    from ltx_core.engine.trainer import build_trainer

    resolved = _resolved(args, workdir, name, **dataset)
    cfg: Any = resolved.config
    pl.seed_everything(cfg.seed, verbose=False)
    tokenizer = build_tokenizer(resolved)
    datamodule = build_datamodule(resolved, tokenizer)
    datamodule.prepare_data()
    datamodule.setup("fit")
    task = build_task(resolved, dataset_handoff(datamodule, resolved), tokenizer)
    clock = Clock(args.accelerator)
    flops = FlopsCounter()  # the first step's FLOPs: inside the untimed warm-up

    class Tick(pl.Callback):
        def on_train_batch_end(self, *a: Any, **k: Any) -> None:
            clock.tick()

    trainer = build_trainer(
        cfg.trainer,
        workdir / name,
        monitor=task.monitor,
        mode=task.monitor_mode,
        extra_callbacks=[ThroughputMonitor(), flops, Tick()],
    )
    trainer.fit(task, datamodule=datamodule)
    return {**clock.rates(args.batch_size), "flops_per_sample": flops.flops_per_sample or 0.0}


def mfu(rates: dict[str, float], flops_per_sample: float, precision: str, device: str) -> float:
    """Model FLOPs utilisation against the device's peak (CPU: the cached matmul roofline)."""
    import torch

    from ltx_core.engine.flops import device_peak_flops

    peak, _ = device_peak_flops(torch.device("cuda" if device == "gpu" else device), precision)
    return rates["samples_per_s"] * flops_per_sample / peak if peak else float("nan")


def run_trainer(args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    """The same fine-tuning through ``transformers.Trainer`` on the same tokenised data,
    padded to max_length as the ltx head-to-head run is."""
    from ltx_nlp_hf.hub import embedded_model_path
    from transformers import (
        AutoModelForSequenceClassification,
        DataCollatorWithPadding,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    from ltx_core.engine.build import build_datamodule, build_tokenizer

    resolved = _resolved(args, workdir, "unused")
    tokenizer = build_tokenizer(resolved)
    datamodule = build_datamodule(resolved, tokenizer)
    datamodule.setup("fit")  # a cache hit: the same tokenised data the ltx runs use
    model = AutoModelForSequenceClassification.from_pretrained(
        str(embedded_model_path("sentence-transformers/all-MiniLM-L6-v2")), num_labels=2
    )
    clock = Clock(args.accelerator)

    class Tick(TrainerCallback):
        def on_step_end(self, *a: Any, **k: Any) -> None:
            clock.tick()

    training_args = TrainingArguments(
        output_dir=str(workdir / "hf-trainer"), per_device_train_batch_size=args.batch_size,
        max_steps=args.steps, learning_rate=5e-5, weight_decay=0.0,
        lr_scheduler_type="constant", save_strategy="no", eval_strategy="no", report_to=[],
        logging_steps=10, dataloader_num_workers=0, disable_tqdm=True, seed=0,
        use_cpu=args.accelerator == "cpu", bf16=args.precision.startswith("bf16"),
    )  # fmt: skip
    collator = DataCollatorWithPadding(tokenizer, padding="max_length", max_length=args.max_length)
    trainer = Trainer(model=model, args=training_args, train_dataset=datamodule.splits["train"],
                      data_collator=collator, callbacks=[Tick()])  # fmt: skip
    trainer.train()
    return clock.rates(args.batch_size)


def time_data_setup(args: argparse.Namespace, workdir: Path) -> tuple[float, float]:
    """Seconds to set up the SST-2 data cold (tokenising) and again (cache hit)."""
    from ltx_core.engine.build import build_datamodule, build_tokenizer

    resolved = _resolved(args, workdir, "unused", cache_dir=str(workdir / "setup-cache"))
    tokenizer = build_tokenizer(resolved)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        dm = build_datamodule(resolved, tokenizer)
        dm.setup("fit")
        times.append(time.perf_counter() - start)
    assert dm.cache_hit, "the second setup should have read the cache"
    return times[0], times[1]


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: max(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=12, help="Optimizer steps per run.")
    parser.add_argument("--rounds", type=int, default=2, help="Alternating ltx/Trainer rounds.")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--accelerator", default="cpu", help="cpu or gpu.")
    parser.add_argument(
        "--precisions",
        nargs="+",
        default=["32-true", "bf16-mixed"],
        help="Head-to-head runs in each precision (Trainer: bf16=True for bf16-*).",
    )
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()
    args.precision = args.precisions[0]
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in (
        "pytorch_lightning",
        "lightning",
        "lightning_fabric",
        "ltx_core",
        "ltx_nlp_hf",
        "transformers",
        "datasets",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    import datasets
    import torch

    datasets.disable_progress_bars()
    log.info(
        "torch %s, %d threads, %s, load average %.1f",
        torch.__version__,
        torch.get_num_threads(),
        args.accelerator,
        os.getloadavg()[0],
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        cold, warm = time_data_setup(args, workdir)
        by_precision: dict[str, dict[str, list[dict[str, float]]]] = {}
        for precision in args.precisions:
            args.precision = precision
            ltx_runs, hf_runs = [], []
            for i in range(args.rounds):
                ltx_runs.append(run_ltx(args, workdir, f"ltx-fixed-{i}", padding="max_length"))
                hf_runs.append(run_trainer(args, workdir))
            by_precision[precision] = {"ltx": ltx_runs, "trainer": hf_runs}
        args.precision = args.precisions[0]
        ltx_runs, hf_runs = (
            by_precision[args.precision]["ltx"],
            by_precision[args.precision]["trainer"],
        )
        dynamic = run_ltx(args, workdir, "ltx-dynamic")
        grouped = run_ltx(args, workdir, "ltx-grouped", group_by_length=True)
        total = time.perf_counter() - started

    ltx, hf = best(ltx_runs), best(hf_runs)
    results = {
        "model": "all-MiniLM-L6-v2", "data": "sst2-sample (20,000 phrases)",
        "steps": args.steps, "rounds": args.rounds, "batch_size": args.batch_size,
        "max_length": args.max_length, "ltx": ltx, "trainer": hf,
        "ltx_runs": ltx_runs, "trainer_runs": hf_runs,
        "ltx_over_trainer": ltx["samples_per_s"] / hf["samples_per_s"],
        "ltx_over_trainer_cpu": ltx["samples_per_cpu_s"] / hf["samples_per_cpu_s"],
        "ltx_dynamic_padding": dynamic, "ltx_group_by_length": grouped,
        "data_setup_cold_s": cold, "data_setup_cached_s": warm, "wall_s": total,
        "by_precision": by_precision,
    }  # fmt: skip
    log.info(
        "padded to max_length=%d, batch %d, %d steps, best of %d:",
        args.max_length,
        args.batch_size,
        args.steps,
        args.rounds,
    )
    log.info("  %-24s %8s %14s", "", "samples/s", "samples/CPU-s")
    for name, r in (("ltx (Lightning)", ltx), ("transformers.Trainer", hf)):
        log.info("  %-24s %8.1f %14.1f", name, r["samples_per_s"], r["samples_per_cpu_s"])
    log.info(
        "  %-24s %8.3f %14.3f   (target >= 1.0)",
        "ratio ltx / Trainer",
        results["ltx_over_trainer"],
        results["ltx_over_trainer_cpu"],
    )
    for precision, runs in by_precision.items():
        ratios = [
            a["samples_per_s"] / b["samples_per_s"]
            for a, b in zip(runs["ltx"], runs["trainer"], strict=True)
        ]
        p_ltx, p_hf = best(runs["ltx"]), best(runs["trainer"])
        # Both sides pad to max_length: the same FLOPs per sample, counted on the ltx side.
        per_sample = p_ltx["flops_per_sample"]
        mfus = [mfu(r, per_sample, precision, args.accelerator) for r in (p_ltx, p_hf)]
        results.setdefault("mfu", {})[precision] = {"ltx": mfus[0], "trainer": mfus[1]}
        log.info(
            "  %-12s ltx %6.1f  Trainer %6.1f samples/s  ltx/Trainer per round %s  "
            "(vs fp32 ltx: %.2fx)  MFU ltx %.3f, Trainer %.3f",
            precision,
            p_ltx["samples_per_s"],
            p_hf["samples_per_s"],
            " ".join(f"{r:.3f}" for r in ratios),
            p_ltx["samples_per_s"] / ltx["samples_per_s"],
            *mfus,
        )
    log.info("ltx data layer (same run, dynamic instead of max_length padding):")
    for name, r in (("dynamic padding", dynamic), ("+ group_by_length", grouped)):
        log.info(
            "  %-24s %8.1f %14.1f   (%.2fx)",
            name,
            r["samples_per_s"],
            r["samples_per_cpu_s"],
            r["samples_per_cpu_s"] / ltx["samples_per_cpu_s"],
        )
    log.info("  data setup: cold %.2fs, from the cache %.2fs (%.0fx)", cold, warm, cold / warm)
    log.info("wall time %.0fs", total)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
