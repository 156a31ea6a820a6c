"""Prediction throughput of ``ltx predict`` against ``transformers.pipeline``, and its
memory over 2,000 vs 200,000 rows.

Throughput: the same model, both sides — the packaged all-MiniLM-L6-v2 with a
classification head, fine-tuned for two steps by ``ltx train`` (its checkpoint for ltx,
its ``artifacts/hf_model`` export, the same weights, for the pipeline) — the same SST-2
sentences (``../shared/data/sst2/train.tsv``), the same batch size and maximum length
(64 tokens, truncating), the same threads, fp32 on the CPU. The ltx side is the code
path of ``ltx predict --input FILE --output FILE`` called in-process: the file read by the
task's reader, batches of similar length within windows, ``Trainer.predict``, results
written as JSON lines in input order (only the command-line parsing and the checkpoint
loading, done once, are left out). The pipeline gets the sentences as a Python list (it
reads no files) and returns its list. "ltx, input order" is ltx with windows of one
batch: no length sorting, to show where the difference comes from. Sides alternate
round by round; the table gives the median rows/s and the median [min-max] of the
per-round ratios.

Memory: a tiny random BERT checkpoint predicts 2,000 and 200,000 rows (SST-2 sentences
repeated) with the real ``ltx predict`` command in a fresh process each; peak resident
memory from the kernel (``wait4``).

    python benchmarks/bench_predict.py [--rows 2000] [--rounds 3] [--batch-size 32]
        [--memory-rows 2000,200000] [--accelerator cpu] [--skip-memory]

Several minutes on two idle CPU cores, most of it the 200,000-row run (35 minutes on the
shared, loaded VM of RESULTS.md); ``--memory-rows 2000,20000 --rows 500`` for a quick look.
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

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
SST2 = ROOT.parent / "shared" / "data" / "sst2" / "train.tsv"
LTX = Path(sys.executable).with_name("ltx")
MAX_LENGTH = 64


def sentences(n: int) -> list[str]:
    with SST2.open(encoding="utf-8", newline="") as f:
        rows = [r["sentence"] for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    return [rows[i % len(rows)] for i in range(n)]


def train(out: Path, backbone: str, accelerator: str) -> Path:
    """A two-step run: a checkpoint and its Hugging Face export, the same weights."""
    cmd = [str(LTX), "train", "text-classification", "--dataset", "sst2-sample",
           "--backbone", backbone, "--accelerator", accelerator, "--max-steps", "2",
           f"dataset.max_length={MAX_LENGTH}", "dataset.limit_train_samples=64",
           "dataset.limit_val_samples=16", "dataset.limit_test_samples=16",
           "trainer.enable_progress_bar=false", "trainer.tensorboard=false",
           "trainer.num_sanity_val_steps=0", "-o", str(out)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"training failed:\n{done.stderr[-3000:]}")
    return out


def throughput(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    import torch
    from transformers import pipeline

    from ltx_core.inference import predictor as predicting
    from ltx_core.inference.predictor import Predictor
    from ltx_core.inference.writers import open_writer

    run = train(work / "minilm", "minilm", args.accelerator)
    texts = sentences(args.rows)
    data = work / "rows.tsv"
    with data.open("w", encoding="utf-8", newline="") as f:
        f.write("sentence\n" + "".join(t + "\n" for t in texts))
    predictor = Predictor.from_checkpoint(
        run / "checkpoints" / "last.ckpt",
        accelerator=args.accelerator,
        batch_size=args.batch_size,
    )
    assert predictor.module.handoff.max_length == MAX_LENGTH
    device = 0 if args.accelerator == "gpu" else -1
    pipe = pipeline("text-classification", model=str(run / "artifacts" / "hf_model"), device=device)
    print(f"torch threads: {torch.get_num_threads()}", file=sys.stderr)

    def ltx(window_batches: int) -> float:
        predicting.WINDOW_BATCHES = window_batches
        out = work / "ltx.jsonl"
        start = time.perf_counter()
        with open_writer(str(out), overwrite=True) as w:
            n = predictor.predict_rows(
                lambda: predictor.module.read_predict_file(str(data)), w.write, progress=False
            )
        took = time.perf_counter() - start
        assert n == len(texts)
        return took

    def hf() -> float:
        start = time.perf_counter()
        got = pipe(texts, batch_size=args.batch_size, truncation=True, max_length=MAX_LENGTH)
        took = time.perf_counter() - start
        assert len(got) == len(texts)
        return took

    sides = {"ltx predict": lambda: ltx(64), "ltx, input order": lambda: ltx(1), "pipeline": hf}
    ltx(64), hf()  # warm-up: first-call costs (kernels, allocator) out of the timings
    times: dict[str, list[float]] = {k: [] for k in sides}
    for r in range(args.rounds):
        order = list(sides) if r % 2 == 0 else list(reversed(sides))
        for name in order:
            times[name].append(sides[name]())
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()),
              file=sys.stderr)  # fmt: skip
    # The same predictions: labels agree (scores to rounding) between ltx and the pipeline.
    ltx_rows = [json.loads(x) for x in (work / "ltx.jsonl").read_text().splitlines()]
    hf_rows = pipe(texts[:200], batch_size=args.batch_size, truncation=True, max_length=MAX_LENGTH)
    agree = sum(a["label"] == b["label"] for a, b in zip(ltx_rows, hf_rows, strict=False))
    print(f"labels equal on {agree}/200 rows", file=sys.stderr)
    table = []
    for name, ts in times.items():
        ratios = [p / t for p, t in zip(times["pipeline"], ts, strict=True)]
        table.append(
            {
                "side": name,
                "rows_per_s": len(texts) / statistics.median(ts),
                "ratio": statistics.median(ratios),
                "min": min(ratios),
                "max": max(ratios),
            }
        )
    return table


def peak_rss(cmd: list[str]) -> tuple[float, float]:
    """``(peak resident MB, seconds)`` of a command run in a fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    return usage.ru_maxrss / 1024, took  # Linux: kilobytes


def memory(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    run = train(work / "tiny", "tiny-bert", "cpu")
    ckpt = run / "checkpoints" / "last.ckpt"
    base = sentences(10_000)
    table = []
    for n in args.memory_rows:
        rows = work / f"rows-{n}.jsonl"
        with rows.open("w", encoding="utf-8") as f:
            for i in range(n):
                f.write(json.dumps({"id": i, "sentence": base[i % len(base)]}) + "\n")
        out = work / f"out-{n}.jsonl"
        cmd = [str(LTX), "predict", "--ckpt", str(ckpt), "--input", str(rows),
               "--output", str(out), "--overwrite", "--no-progress", "--keep-columns", "id",
               "--accelerator", args.accelerator, "--batch-size", "64"]  # fmt: skip
        mb, took = peak_rss(cmd)
        with out.open(encoding="utf-8") as f:
            count = sum(1 for _ in f)
        assert count == n, (count, n)
        table.append({"rows": n, "peak_rss_mb": mb, "seconds": took})
        print(f"{n} rows: {mb:.0f} MB, {took:.1f} s", file=sys.stderr)
        rows.unlink()
        out.unlink()
    return table


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--accelerator", default="cpu")
    p.add_argument("--memory-rows", default="2000,200000")
    p.add_argument("--skip-memory", action="store_true")
    p.add_argument("--skip-throughput", action="store_true")
    args = p.parse_args()
    args.memory_rows = [int(x) for x in args.memory_rows.split(",") if x]
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as tmp:
        work = Path(tmp)
        if not args.skip_throughput:
            rows = throughput(args, work)
            print(f"\nThroughput, {args.rows} SST-2 sentences, batch {args.batch_size}, "
                  f"{args.rounds} rounds, {args.accelerator}")  # fmt: skip
            print("| side | rows/s (median) | speed-up over pipeline: median [min-max] |")
            print("|---|---|---|")
            for r in rows:
                print(f"| {r['side']} | {r['rows_per_s']:.0f} | "
                      f"{r['ratio']:.2f}x [{r['min']:.2f}-{r['max']:.2f}] |")  # fmt: skip
        if not args.skip_memory:
            mem = memory(args, work)
            print("\nPeak memory of `ltx predict` (tiny-bert, batch 64, JSON lines in and out)")
            print("| rows | peak RSS | time |")
            print("|---|---|---|")
            for m in mem:
                print(f"| {m['rows']:,} | {m['peak_rss_mb']:.1f} MB | {m['seconds']:.1f} s |")
            if len(mem) >= 2:
                ratio = mem[-1]["peak_rss_mb"] / mem[0]["peak_rss_mb"]
                verdict = "met" if ratio <= 1.10 else "NOT met"
                print(f"\n{mem[-1]['rows']:,} vs {mem[0]['rows']:,} rows: {ratio:.3f}x peak "
                      f"memory (target within 10%: {verdict})")  # fmt: skip


if __name__ == "__main__":
    main()
