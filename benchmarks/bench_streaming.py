"""Streaming language-model data: flat memory whatever the file's size, and the training
speed of a stream against the same data read whole.

Two comparisons, each run side by side in alternating rounds, through ``ltx train
language-modeling`` as a user runs it (tiny GPT-2, the packaged MiniLM tokenizer, CPU):

1. peak memory (the process's resident set, ``summary.json``'s ``peak_memory_mb``) of a
   streamed run on a generated text file of ``--small-mb`` (200) and ``--large-mb`` (2000)
   megabytes, the same number of steps on each. Target: within 10%.
2. training tokens/s (``summary.json``'s throughput: steps after warm-up, data loading
   included) of ``dataset.streaming=true`` against the same ``--speed-mb`` file read
   whole and tokenised before training. Target: streaming >= 0.9x.

The files are generated under /tmp and deleted afterwards. About five minutes on two CPU
cores (tiny GPT-2 has the MiniLM tokenizer's 30k-token vocabulary, so a step costs
about a second there); ``--rounds``, ``--steps`` and ``--max-length`` make it longer.

    .venv/bin/python benchmarks/bench_streaming.py [--rounds 2] [--steps 40]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
#: The vocabulary of the generated sentences.
WORDS = " ".join(
    [
        "the a of and to in is was for on that with as by at from his her an which it",
        "history river city music science early war king language people century north",
        "south school world life work water time state book game film light family",
    ]
).split(" ")


def write_text(path: Path, megabytes: int, seed: int = 0) -> None:
    """A text file of about ``megabytes`` MB: a block of random sentences, written again
    and again with a running number so no two lines are equal."""
    rng = random.Random(seed)
    block = [" ".join(rng.choices(WORDS, k=rng.randint(8, 30))) for _ in range(4000)]
    target = megabytes * 1_000_000
    with path.open("w", encoding="utf-8") as fh:
        n = 0
        while fh.tell() < target:
            fh.write("".join(f"{n + i} {line}.\n" for i, line in enumerate(block)))
            n += len(block)


def train(text: Path, out: Path, steps: int, streaming: bool, max_length: int = 64) -> dict:
    """One ``ltx train`` run; its summary."""
    args = [
        str(BIN / "ltx"), "train", "language-modeling", "--dataset", "language-modeling-files",
        "--backbone", "tiny-gpt2", "--accelerator", "cpu", "--max-steps", str(steps),
        "-o", str(out), f"dataset.train_file={text}", f"dataset.streaming={str(streaming).lower()}",
        f"dataset.max_length={max_length}", "dataset.batch_size=8", "dataset.cache=false",
        "trainer.limit_val_batches=2", "trainer.num_sanity_val_steps=0",
        "trainer.enable_progress_bar=false", "trainer.tensorboard=false",
        "trainer.log_every_n_steps=20",
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    env.pop("LTX_RUN_DIR", None)
    started = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"ltx train failed:\n{proc.stderr[-3000:]}")
    summary = json.loads((out / "summary.json").read_text())
    summary["process_s"] = time.perf_counter() - started
    shutil.rmtree(out)
    return summary


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds per comparison")
    ap.add_argument("--steps", type=int, default=30, help="optimizer steps per run")
    ap.add_argument("--max-length", type=int, default=64, help="tokens per example")
    ap.add_argument("--small-mb", type=int, default=200)
    ap.add_argument("--large-mb", type=int, default=2000)
    ap.add_argument("--speed-mb", type=int, default=5, help="file of the speed comparison")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    opts = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ltx-bench-streaming-", dir="/tmp"))
    try:
        files = {}
        for name, mb in (
            ("small", opts.small_mb),
            ("large", opts.large_mb),
            ("speed", opts.speed_mb),
        ):
            files[name] = work / f"{name}.txt"
            started = time.perf_counter()
            write_text(files[name], mb)
            size = files[name].stat().st_size / 1e6
            print(
                f"generated {size:.0f} MB in {time.perf_counter() - started:.0f} s", file=sys.stderr
            )

        memory: dict[str, list[float]] = {"small": [], "large": []}
        speed: dict[str, list[float]] = {"streaming": [], "in-memory": []}
        for r in range(opts.rounds):
            for name in ("small", "large") if r % 2 == 0 else ("large", "small"):
                s = train(files[name], work / "run", opts.steps, True, opts.max_length)
                memory[name].append(s["peak_memory_mb"])
                print(
                    f"round {r}: {name} streamed peak {s['peak_memory_mb']:.0f} MB", file=sys.stderr
                )
            for mode in ("streaming", "in-memory") if r % 2 == 0 else ("in-memory", "streaming"):
                s = train(
                    files["speed"], work / "run", opts.steps, mode == "streaming", opts.max_length
                )
                speed[mode].append(s["throughput"]["tokens_per_s"])
                print(f"round {r}: {mode} {speed[mode][-1]:.0f} tokens/s", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    mem_ratio = [b / a for a, b in zip(memory["small"], memory["large"], strict=True)]
    speed_ratio = [s / m for s, m in zip(speed["streaming"], speed["in-memory"], strict=True)]
    print(f"\nltx train language-modeling (tiny-gpt2, batch 8 x {opts.max_length} tokens, "
          f"{opts.steps} steps, {opts.rounds} rounds; median (min-max))\n")  # fmt: skip
    med = statistics.median
    rows = [
        ("peak memory, streamed", f"{opts.small_mb} MB file", f"{med(memory['small']):.0f} MB"),
        ("peak memory, streamed", f"{opts.large_mb} MB file", f"{med(memory['large']):.0f} MB"),
        ("  ratio large/small", "target <= 1.10", spread(mem_ratio)),
        ("tokens/s", f"in memory, {opts.speed_mb} MB", f"{med(speed['in-memory']):.0f}"),
        ("tokens/s", f"streamed, {opts.speed_mb} MB", f"{med(speed['streaming']):.0f}"),
        ("  ratio streamed/in memory", "target >= 0.90", spread(speed_ratio)),
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    if opts.json:
        opts.json.write_text(json.dumps({"memory_mb": memory, "tokens_per_s": speed}, indent=2))


if __name__ == "__main__":
    main()
