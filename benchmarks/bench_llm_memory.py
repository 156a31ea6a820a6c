"""Peak memory and time of one chat training step: every position's logits against the
trained tokens' only (``ltx_llm.loss.TrainedLogits``), on SmolLM2-135M-Instruct.

Each way runs in its own process (peak RSS is per process): load the model, one forward
and backward of the chat loss on a packed batch (``--batch`` rows of ``--length`` tokens,
an 8-token answer in every 48 tokens, 17% trained, as in short chat turns), then a second
timed step. "full" is what the loss cost before (transformers' own loss computes every
position's logits too); "hidden" is what ``ltx train chat`` does now.

    python benchmarks/bench_llm_memory.py [--batch 8] [--length 512] [--precision bf16]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time


def step(mode: str, batch: int, length: int, precision: str) -> dict[str, float]:
    import torch
    from ltx_llm.loss import TrainedLogits, trained_token_loss
    from ltx_llm.models import SMOLLM2, model_source
    from ltx_llm.rendering import IGNORE
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_source(SMOLLM2)).train()
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (batch, length), generator=gen)
    labels = torch.full_like(ids, IGNORE)
    for start in range(40, length, 48):
        labels[:, start : start + 8] = ids[:, start : start + 8]
    # Packed rows: conversations of 96 tokens, positions restarting.
    positions = (torch.arange(length) % 96).repeat(batch, 1)
    inputs = {"input_ids": ids, "position_ids": positions}
    logits = TrainedLogits(mode)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = trained_token_loss(model, inputs, labels, logits)
        loss.backward()
        model.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"peak_mb": peak, "step_s": times[-1], "loss": float(loss)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="bf16")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(step(args.worker, args.batch, args.length, args.precision)))
        return
    rows = {}
    for mode in ("full", "hidden"):
        done = subprocess.run(
            [sys.executable, __file__, "--worker", mode, "--batch", str(args.batch),
             "--length", str(args.length), "--precision", args.precision],
            capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode:
            raise SystemExit(f"{mode} failed:\n{done.stderr[-2000:]}")
        rows[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"\nOne chat training step, SmolLM2-135M-Instruct, {args.batch} x {args.length} packed "
        f"tokens (17% trained), {args.precision}; {platform.machine()}"
    )
    print(f"{'logits of':<24} {'peak RSS MB':>12} {'step s':>8} {'loss':>8}")
    for mode, label in (("full", "every position"), ("hidden", "trained tokens only")):
        r = rows[mode]
        print(f"{label:<24} {r['peak_mb']:>12.0f} {r['step_s']:>8.2f} {r['loss']:>8.4f}")
    full, ours = rows["full"], rows["hidden"]
    print(
        f"trained-only / every position: memory {ours['peak_mb'] / full['peak_mb']:.2f}x, "
        f"time {ours['step_s'] / full['step_s']:.2f}x"
    )


if __name__ == "__main__":
    main()
