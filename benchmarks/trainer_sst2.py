"""SST-2 fine-tuning the way a ``transformers.Trainer`` user writes it, for ``bench_perf.py``.

The script a Hugging Face user would write for the packaged SST-2 subset and MiniLM:
``datasets`` reads the TSV files, the tokenizer truncates (no padding: Trainer's default
collator pads each batch to its longest text), and ``TrainingArguments`` keeps every
default (batch 8, learning rate 5e-5, linear decay without warm-up, no weight decay,
fused AdamW, a checkpoint every 500 steps) except the number of epochs, which the caller
sets (Trainer's default is 3; the issue's setting is 1) and, by flag, bf16. One process
per run, so its peak resident memory is its own; it prints one JSON object with the
fields ``bench_perf.py`` reads from an ltx ``summary.json``.

    python benchmarks/trainer_sst2.py --output-dir DIR [--epochs 1] [--limit N] [--bf16]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
SKIP = 2  # warm-up steps left out of the rate, as ltx's ThroughputMonitor does


def main() -> None:
    started = time.perf_counter()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output-dir", type=Path, required=True)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--limit", type=int, help="Train on the first N phrases only.")
    ap.add_argument("--bf16", action="store_true")
    args = ap.parse_args()

    import datasets
    import numpy as np
    from ltx_nlp_hf.catalogue import SAMPLES
    from ltx_nlp_hf.hub import embedded_model_path
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    datasets.disable_progress_bars()
    model_dir = str(embedded_model_path("sentence-transformers/all-MiniLM-L6-v2"))
    files = {"train": str(SAMPLES / "sst2/train.tsv"), "test": str(SAMPLES / "sst2/test.tsv")}
    raw = datasets.load_dataset("csv", data_files=files, delimiter="\t")
    if args.limit:
        raw["train"] = raw["train"].select(range(args.limit))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    data = raw.map(lambda b: tokenizer(b["sentence"], truncation=True), batched=True)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=2)

    marks: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, *a: Any, **k: Any) -> None:
            marks.append(time.perf_counter())

    training_args = TrainingArguments(
        output_dir=str(args.output_dir), num_train_epochs=args.epochs, bf16=args.bf16,
        use_cpu=True, disable_tqdm=True,
    )  # fmt: skip
    trainer = Trainer(
        model=model, args=training_args, train_dataset=data["train"],
        processing_class=tokenizer, callbacks=[Clock()],
    )  # fmt: skip
    fit_start = time.perf_counter()
    trainer.train()
    fit_s = time.perf_counter() - fit_start
    logits = trainer.predict(data["test"].remove_columns(["label"])).predictions
    acc = float((np.argmax(logits, axis=-1) == np.asarray(data["test"]["label"])).mean())

    batch = training_args.per_device_train_batch_size
    measured = marks[SKIP:]
    # Every sample after the first SKIP (full) batches, the short last one included.
    samples = int(len(data["train"]) * args.epochs) - batch * SKIP
    elapsed = marks[-1] - marks[SKIP - 1] if len(measured) > 1 else float("nan")
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(
        json.dumps(
            {
                "throughput": {"samples_per_s": samples / elapsed, "mfu": None},
                "metrics": {"test_acc": acc},
                "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "trainable_params": trainable,
                "total_params": params,
                "precision": "bf16" if args.bf16 else "fp32",
                "fit_s": fit_s,
                "batch_size": batch,
                "steps": len(marks),
                "process_s": time.perf_counter() - started,
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
