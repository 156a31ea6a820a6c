"""igpt at 28x28 (784 pixels): where a training step's time goes, and what closes the gap.

One training step (forward, backward, AdamW) of igpt's default GPT (4 blocks, 64 wide)
over 784-pixel sequences, batch 32, profiled with ``torch.profiler``: the top operators
by self CPU time, the step's FLOPs (PyTorch's FLOP counter) and its MFU against this
machine's matmul roofline. Then variants side by side, alternating round by round:
head dimension 16 (the default preset's 4 heads), 32 (2 heads) and 64 (1 head), the
attention kernel (the fused CPU flash kernel ``scaled_dot_product_attention`` picks, or
the math path), fp32 vs bf16 autocast. Ratios are against the default in the same round.

    python benchmarks/bench_igpt28.py [--rounds 2] [--steps 2] [--batch-size 32] [--no-profile]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from typing import Any

import torch
from ltx_vision_igpt.model import GPT, GPTConfig
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from ltx_core.engine.flops import cpu_roofline

SEQ, VOCAB = 28 * 28, 16


def make(n_head: int) -> tuple[GPT, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = GPT(GPTConfig(block_size=SEQ, vocab_size=VOCAB, n_head=n_head, n_embd=64, n_layer=4))
    return model, torch.optim.AdamW(model.parameters(), lr=1e-3, fused=True)


def step(model: GPT, opt: torch.optim.Optimizer, idx: torch.Tensor, bf16: bool) -> None:
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        _, loss = model(idx, idx)
    assert loss is not None
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)


def flops_of_step(model: GPT, idx: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter:
        _, loss = model(idx, idx)
        assert loss is not None
        loss.backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


def time_steps(
    model: GPT, opt: torch.optim.Optimizer, idx: torch.Tensor, steps: int, bf16: bool, math: bool
) -> float:
    ctx = sdpa_kernel(SDPBackend.MATH) if math else contextlib.nullcontext()
    with ctx:
        step(model, opt, idx, bf16)  # warm-up: kernels chosen, memory allocated
        start = time.perf_counter()
        for _ in range(steps):
            step(model, opt, idx, bf16)
    return (time.perf_counter() - start) / steps


VARIANTS: dict[str, dict[str, Any]] = {
    "hs16 (default, 4 heads)": {"n_head": 4},
    "hs32 (2 heads)": {"n_head": 2},
    "hs64 (1 head)": {"n_head": 1},
    "hs16 math attention": {"n_head": 4, "math": True},
    "hs16 bf16": {"n_head": 4, "bf16": True},
    "hs64 bf16": {"n_head": 1, "bf16": True},
}


def profile(idx: torch.Tensor) -> None:
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    model, opt = make(4)
    step(model, opt, idx, False)
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        step(model, opt, idx, False)
    print("Top operators of one default step (fp32), by self CPU time:")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--no-profile", action="store_true")
    args = ap.parse_args()
    idx = torch.randint(0, VOCAB, (args.batch_size, SEQ))
    roof = cpu_roofline()
    print(
        f"igpt 28x28: batch {args.batch_size}, {SEQ} pixels, {torch.get_num_threads()} threads; "
        f"roofline fp32 {roof['fp32'] / 1e9:.0f} / bf16 {roof['bf16'] / 1e9:.0f} GFLOP/s"
    )
    if not args.no_profile:
        profile(idx)
    models = {name: make(v["n_head"]) for name, v in VARIANTS.items()}
    flops = {name: flops_of_step(models[name][0], idx) for name in VARIANTS}
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, v in VARIANTS.items():
            model, opt = models[name]
            times[name].append(
                time_steps(model, opt, idx, args.steps, v.get("bf16", False), v.get("math", False))
            )
    first = next(iter(VARIANTS))
    print(f"\n{'variant':<26}{'s/step':>8}{'speed-up (min-max)':>22}{'GFLOP/step':>12}{'MFU':>8}")
    for name, v in VARIANTS.items():
        ratios = [a / b for a, b in zip(times[first], times[name], strict=True)]
        med = statistics.median(times[name])
        peak = roof["bf16" if v.get("bf16") else "fp32"]
        mfu = flops[name] / med / peak
        spread = f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
        print(f"{name:<26}{med:>8.2f}{spread:>22}{flops[name] / 1e9:>12.1f}{mfu:>8.3f}")


if __name__ == "__main__":
    main()
