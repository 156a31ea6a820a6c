"""bf16 against fp32 on SST-2 with MiniLM: training (fp32, bf16-true with its update
handling, bf16-mixed) and inference (the labels and speed of each precision).

Training: each configuration is a real ``ltx train text-classification --dataset
sst2-sample --backbone minilm`` in a fresh process, with the settings of
``bench_perf.py --sections sst2`` (batch 32, max length 64, ltx's default schedule: lr 1e-4,
10% warm-up, linear decay; one epoch; no validation, TensorBoard or HF export), the same
seed, and differing only in ``--precision`` (and ``optimizer.bf16_updates``). Read back
from each ``summary.json``: test accuracy on the 872 GLUE validation sentences (the
sample's test split, scored by the run itself in its own precision), training time
(``fit_time_s``), samples per second and peak resident memory.

Inference: the fp32 run's checkpoint predicts the 872 test sentences in-process through
``Predictor`` (what ``ltx predict`` and ``ltx serve`` use) in fp32, with bf16 weights
(``bf16-true``), under bf16 autocast (``bf16-mixed``), with ``auto`` (what inference's
``auto`` picks on this machine) and with no precision given (inference's default);
rounds interleave the precisions, each timed after a warm-up batch. Reported: the labels
that differ from fp32's, the speed against fp32's of the best pass of each (on a shared
machine, the least disturbed one) and within each round (median, min-max).

    python benchmarks/bench_bf16.py [--train-samples 20000] [--configs fp32 bf16-true ...]
        [--infer-rounds 3] [--json out.json]

``--train-samples 0`` trains on all 20,000 phrases (``bench_perf.py --full``);
``--skip-train --ckpt PATH`` runs the inference check alone on a checkpoint.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LTX = str(Path(sys.executable).with_name("ltx"))
QUIET = ["trainer.enable_progress_bar=false", "trainer.tensorboard=false"]
BASE = [
    "text-classification", "--dataset", "sst2-sample", "--backbone", "minilm",
    "--max-epochs", "1", "dataset.batch_size=32", "dataset.max_length=64",
    "task.export_hf=false", "trainer.limit_val_batches=0", *QUIET,
]  # fmt: skip
CONFIGS = {
    "fp32": ["--precision", "32-true"],
    "bf16-true": ["--precision", "bf16-true", "optimizer.bf16_updates=master-weights"],
    "bf16-mixed": ["--precision", "bf16-mixed"],
    "bf16-true-sr": ["--precision", "bf16-true", "optimizer.bf16_updates=stochastic-rounding"],
    "bf16-true-plain": ["--precision", "bf16-true", "optimizer.bf16_updates=plain"],
}
DEFAULT_CONFIGS = ["fp32", "bf16-true", "bf16-mixed"]
INFER = ["32-true", "bf16-true", "bf16-mixed", "auto", None]  # None: inference's default


def train(name: str, args: argparse.Namespace, out: Path, env: dict[str, str]) -> dict[str, Any]:
    limit = [f"dataset.limit_train_samples={args.train_samples}"] if args.train_samples else []
    argv = [LTX, "train", *BASE, *limit, *CONFIGS[name], "--seed", str(args.seed),
            "--output-dir", str(out), "--overwrite"]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stderr[-3000:]}")
    summary = json.loads((out / "summary.json").read_text())
    return {
        "config": name,
        "precision": summary["precision"],
        "test_acc": summary["metrics"].get("test_acc"),
        "fit_time_s": summary.get("fit_time_s"),
        "samples_per_s": summary["throughput"].get("samples_per_s"),
        "peak_memory_mb": summary["peak_memory_mb"],
        "process_wall_s": round(time.perf_counter() - start, 1),
        "checkpoint": str(out / "checkpoints" / "last.ckpt"),
    }


def test_sentences() -> list[str]:
    import ltx_nlp_hf

    path = Path(ltx_nlp_hf.__file__).with_name("sample_data") / "sst2" / "test.tsv"
    with path.open(encoding="utf-8", newline="") as fh:
        return [row["sentence"] for row in csv.DictReader(fh, delimiter="\t")]


def infer(ckpt: str, rounds: int) -> list[dict[str, Any]]:
    """Labels and times of each inference precision on the 872 test sentences."""
    from ltx_core.inference.predictor import Predictor

    texts = test_sentences()
    predictors = {}
    for precision in INFER:
        p = Predictor.from_checkpoint(ckpt, accelerator="cpu", precision=precision)
        p.predict(texts[: p.batch_size], p.parse_options({}))  # warm-up: set-up, casts
        predictors[precision] = p
    labels: dict[Any, list[str]] = {}
    times: dict[Any, list[float]] = {k: [] for k in INFER}
    for _ in range(rounds):
        for precision, p in predictors.items():
            start = time.perf_counter()
            out = p.predict(texts, p.parse_options({}))
            times[precision].append(time.perf_counter() - start)
            labels.setdefault(precision, [row["label"] for row in out])
    base = labels["32-true"]
    rows = []
    for precision, p in predictors.items():
        ratios = [f / t for f, t in zip(times["32-true"], times[precision], strict=True)]
        differing = sum(a != b for a, b in zip(base, labels[precision], strict=True))
        rows.append(
            {
                "asked": precision or "(none)",
                "ran_in": str(p.precision),
                "why": p.precision_reason,
                "labels_differing": differing,
                "sentences": len(base),
                "time_s_median": round(statistics.median(times[precision]), 2),
                "time_s_best": round(min(times[precision]), 2),
                # Best against best: the least disturbed pass of each on a shared machine.
                "speed_vs_fp32_best": round(min(times["32-true"]) / min(times[precision]), 2),
                "speed_vs_fp32_median": round(statistics.median(ratios), 2),
                "speed_vs_fp32_min": round(min(ratios), 2),
                "speed_vs_fp32_max": round(max(ratios), 2),
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train-samples", type=int, default=20000,
                    help="Training phrases (0 or 20000: all of them).")  # fmt: skip
    ap.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=DEFAULT_CONFIGS)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--infer-rounds", type=int, default=3)
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--ckpt", help="Checkpoint for the inference check (with --skip-train).")
    ap.add_argument("--keep", type=Path, help="Keep the runs in this folder.")
    ap.add_argument("--json", type=Path, help="Also write the figures here.")
    args = ap.parse_args()
    if args.train_samples >= 20000:
        args.train_samples = 0
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    # Idle OpenMP workers sleep rather than spin: on a shared machine spinning threads
    # steal the cores the other configuration's process needs (as tests/conftest.py does).
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    print(
        f"bench_bf16: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
        f"training phrases {args.train_samples or 'all 20,000'}",
        flush=True,
    )
    results: dict[str, Any] = {"train": [], "infer": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        env.setdefault("LTX_CACHE_DIR", str(Path(tmp) / "cache"))
        ckpt = args.ckpt
        if not args.skip_train:
            for name in args.configs:
                row = train(name, args, root / name, env)
                results["train"].append(row)
                print(f"  {name}: {json.dumps(row)}", flush=True)
            rows = results["train"]
            fp32 = next((r for r in rows if r["config"] == "fp32"), None)
            print("\n## Training: test accuracy on the 872 sentences, train time, peak memory")
            print(f"{'config':<17}{'precision':<12}{'test acc':>9}{'train s':>9}{'vs fp32':>9}"
                  f"{'samples/s':>11}{'peak MB':>9}")  # fmt: skip
            for r in rows:
                ratio = fp32["fit_time_s"] / r["fit_time_s"] if fp32 else float("nan")
                print(f"{r['config']:<17}{r['precision']:<12}{r['test_acc']:>9.4f}"
                      f"{r['fit_time_s']:>9.0f}{ratio:>8.2f}x{r['samples_per_s']:>11.1f}"
                      f"{r['peak_memory_mb']:>9.0f}")  # fmt: skip
            ckpt = ckpt or (fp32 or rows[0])["checkpoint"]
        if ckpt:
            results["infer"] = infer(ckpt, args.infer_rounds)
            print(f"\n## Inference: {ckpt} on the 872 test sentences, {args.infer_rounds} rounds")
            print(f"{'asked':<12}{'ran in':<12}{'labels != fp32':>16}{'best s':>8}"
                  f"{'speed, best':>12}{'per round (min-max)':>22}  why")  # fmt: skip
            for r in results["infer"]:
                spread = (f"{r['speed_vs_fp32_median']:.2f} ({r['speed_vs_fp32_min']:.2f}-"
                          f"{r['speed_vs_fp32_max']:.2f})")  # fmt: skip
                print(f"{r['asked']:<12}{r['ran_in']:<12}"
                      f"{r['labels_differing']:>9} / {r['sentences']:<4}{r['time_s_best']:>8.2f}"
                      f"{r['speed_vs_fp32_best']:>11.2f}x{spread:>22}  {r['why']}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
