"""This machine's matmul roofline: the CPU peak MFU is measured against.

Measures fp32 and bf16 ``n x n`` matmuls (best of many, a few rounds) with torch's
thread count and prints them beside the figure cached in ``roofline.json`` (what runs
use; see ``ltx_core.engine.flops``). ``--write`` replaces the cached figure with this one.

Run: ``python benchmarks/bench_roofline.py [--rounds 3] [--seconds 0.4] [--write]``.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from ltx_core.engine import flops


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=flops.ROOFLINE_SECONDS)
    ap.add_argument("--sizes", type=int, nargs="+", default=list(flops.ROOFLINE_SIZES))
    ap.add_argument("--write", action="store_true", help="measure again into the cache")
    args = ap.parse_args()

    cached = flops.cpu_roofline(refresh=args.write, seconds=args.seconds)
    print(f"CPU matmul roofline: {cached['key']}")
    print(f"cache: {flops.roofline_cache_path()} (cached={cached['cached']})")
    print(f"{'dtype':<6}{'n':>6}{'median GFLOP/s':>16}{'min':>10}{'max':>10}")
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        for n in args.sizes:
            runs = [flops._measure_matmul(dtype, n, args.seconds) / 1e9 for _ in range(args.rounds)]
            print(
                f"{name:<6}{n:>6}{statistics.median(runs):>16.0f}{min(runs):>10.0f}"
                f"{max(runs):>10.0f}"
            )
        print(f"{name:<6}{'used':>6}{cached[name] / 1e9:>16.0f}  (the cached peak: best size)")
    print(f"bf16 / fp32 (cached): {cached['bf16'] / cached['fp32']:.2f}x")


if __name__ == "__main__":
    main()
