"""What torch's OpenMP spin (libgomp's ``GOMP_SPINCOUNT``) costs one prompt's generation.

``ltx serve`` bounds the spin to :data:`ltx_serve.worker.OPENMP_SPIN` iterations (libgomp's
default is 300,000) so that torch's threads give their core back soon after a batch. This
measures what that bound costs where it could cost most: one prompt generated alone on an
otherwise idle machine, where a longer spin keeps torch's threads awake between
operations. libgomp reads the spin once, when torch loads, so each spin runs in a process
of its own; in each, ``ltx predict``'s path and a plain ``model.generate`` loop (both from
``bench_generate.py``, SmolLM2-135M-Instruct in fp32, greedy, 48 new tokens) alternate
over the same prompts, one prompt per call.

Printed per spin and side: tokens/s (median [min-max] over the calls), and how often
the process's threads went to sleep per generated token (voluntary context switches
from ``/proc``: a torch thread that stops spinning sleeps, and is woken for the next
operation).

    python benchmarks/bench_spin.py [--spins 10000,30000,100000,300000] [--rounds 3]
        [--prompts 3] [--ckpt C]

On two CPU cores, each spin's process takes about 25 s to load and 20 s per round at
three prompts; without ``--ckpt``, the checkpoint first takes about two minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_generate as bg

#: Tokens generated per call (the docstring's 48).
NEW_TOKENS = 48


def sleeps() -> int:
    """Voluntary context switches of every thread of this process so far."""
    total = 0
    for status in Path(f"/proc/{os.getpid()}/task").glob("*/status"):
        try:
            text = status.read_text()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        for line in text.splitlines():
            if line.startswith("voluntary_ctxt_switches"):
                total += int(line.split()[1])
    return total


def measure(ckpt: Path, rounds: int, per_round: int) -> dict[str, dict[str, list[float]]]:
    """In this process (its spin fixed): tokens/s and sleeps per token, per call."""
    sides = {"plain": bg.Plain(NEW_TOKENS), "ltx": bg.Ltx(ckpt, "32-true", NEW_TOKENS, 1)}
    prompts = bg.prompts(per_round)
    for side in sides.values():  # warm-up: first calls pay for allocation
        side.generate(prompts[:1])
    out: dict[str, dict[str, list[float]]] = {k: {"tps": [], "sleeps": []} for k in sides}
    for _ in range(rounds):
        for name, side in sides.items():
            for prompt in prompts:
                before, start = sleeps(), time.perf_counter()
                _, tokens = side.generate([prompt])
                took = time.perf_counter() - start
                out[name]["tps"].append(tokens / took)
                out[name]["sleeps"].append((sleeps() - before) / tokens)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spins", default="10000,30000,100000,300000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prompts", type=int, default=3, help="Calls per side and round.")
    parser.add_argument("--ckpt", type=Path, help="A chat checkpoint of SmolLM2 to reuse.")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(measure(args.ckpt, args.rounds, args.prompts)))
        return
    ckpt = args.ckpt or bg.make_checkpoint(Path(tempfile.mkdtemp(prefix="ltx-bench-spin-")))
    rows = []
    for spin in args.spins.split(","):
        env = {**os.environ, "GOMP_SPINCOUNT": spin}
        env.pop("OMP_WAIT_POLICY", None)
        done = subprocess.run(
            [sys.executable, __file__, "--child", "--ckpt", str(ckpt),
             "--rounds", str(args.rounds), "--prompts", str(args.prompts)],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        result = json.loads(done.stdout.strip().splitlines()[-1])
        plain, ltx = result["plain"]["tps"], result["ltx"]["tps"]
        ratio = statistics.median(ltx) / statistics.median(plain)
        for name, got in result.items():
            tps, per_token = got["tps"], got["sleeps"]
            rows.append(
                (spin, name, f"{statistics.median(tps):.2f} [{min(tps):.2f}-{max(tps):.2f}]",
                 f"{statistics.median(per_token):.1f}", f"{ratio:.2f}x" if name == "ltx" else "")
            )  # fmt: skip
        print(f"spin {spin}: done", file=sys.stderr)
    head = ("GOMP_SPINCOUNT", "side", "tokens/s", "sleeps/token", "ltx/plain")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
