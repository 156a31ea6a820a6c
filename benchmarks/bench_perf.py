"""Performance levers side by side: precision, LoRA, activation checkpointing, compile, MFU.

Every configuration is a real ``ltx train`` in a fresh process (so each peak resident
memory is its own), read back from its ``summary.json``: samples (tokens) per second,
MFU, peak memory, trainable parameters, accuracy. Configurations of a section alternate
round by round, and ratios are taken within a round against the section's first
configuration, so a busy machine slows both sides of a ratio alike; the table gives the
median and the min-max of each ratio over the rounds.

Sections (``--sections``, all by default):

- ``sst2``: MiniLM fine-tuned on the packaged SST-2 subset, one epoch: fp32 (ltx's
  defaults, less the progress bar, TensorBoard, validation and the HF export), bf16-mixed,
  LoRA r 8 (fp32), and ``transformers.Trainer`` with its own defaults but one epoch
  (``trainer_sst2.py``: batch 8, learning rate 5e-5, checkpoints every 500 steps):
  test accuracy on the 872 GLUE validation sentences. The default trains on 1,000
  phrases; ``--full`` on all 20,000 (the issue's setting).
- ``gpt2``: GPT-2 small's shape (12 layers, 768 wide, 12 heads; random weights built
  from the config, no download; MiniLM's 30,522-token vocabulary, so 110M parameters
  rather than 124M) on the packaged Wikipedia text, 128-token blocks: fp32 and bf16,
  each with and without activation checkpointing.
- ``igpt``: the default igpt run's model (digits, 8x8): fp32, bf16-mixed, and
  ``trainer.compile`` (fp32); compile time is outside the timed steps (the first two
  are skipped), and reported as the wall-time difference.

    python benchmarks/bench_perf.py [--sections sst2 gpt2 igpt] [--rounds 2] [--full]
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
from typing import Any

LTX = str(Path(sys.executable).with_name("ltx"))
TRAINER_SST2 = "@trainer_sst2"  # a config run by trainer_sst2.py instead of ltx train
QUIET = ["trainer.enable_progress_bar=false", "trainer.tensorboard=false"]


def sst2_configs(args: argparse.Namespace) -> dict[str, list[str]]:
    limit = [] if args.full else [f"dataset.limit_train_samples={args.sst2_samples}"]
    base = [
        "text-classification", "--dataset", "sst2-sample", "--backbone", "minilm",
        "--max-epochs", "1", "dataset.batch_size=32", "dataset.max_length=64",
        "task.export_hf=false", "trainer.limit_val_batches=0", *limit, *QUIET,
    ]  # fmt: skip
    return {
        "fp32": [*base, "--precision", "32-true"],
        "bf16": [*base, "--precision", "bf16-mixed"],
        # LoRA's usual learning rate is ~10x full fine-tuning's (the adapter starts at 0);
        # every linear layer adapted, the pooler included (peft's BERT default, query and
        # value only, measured 3-5 points short of full fine-tuning after one epoch).
        "lora-r8": [*base, "--precision", "32-true", "backbone.peft.method=lora",
                    "backbone.peft.target_modules=all-linear", "optimizer.lr=1e-3"],
        "hf-defaults": [TRAINER_SST2, "--epochs", "1",
                        *([] if args.full else ["--limit", str(args.sst2_samples)])],
    }  # fmt: skip


def gpt2_configs(args: argparse.Namespace) -> dict[str, list[str]]:
    base = [
        "language-modeling", "--dataset", "wiki-sample", "--backbone", "tiny-gpt2",
        "backbone.hidden_size=768", "backbone.num_layers=12", "backbone.num_heads=12",
        "backbone.intermediate_size=3072", "backbone.max_position_embeddings=1024",
        "dataset.max_length=128", "dataset.batch_size=4", "--max-steps", str(args.gpt2_steps),
        "task.export_hf=false", "trainer.limit_val_batches=0", "trainer.limit_test_batches=0",
        "trainer.num_sanity_val_steps=0", *QUIET,
    ]  # fmt: skip
    ckpt = ["backbone.gradient_checkpointing=true"]
    return {
        "fp32": [*base, "--precision", "32-true"],
        "bf16": [*base, "--precision", "bf16-mixed"],
        "fp32+ckpt": [*base, "--precision", "32-true", *ckpt],
        "bf16+ckpt": [*base, "--precision", "bf16-mixed", *ckpt],
    }


def igpt_configs(args: argparse.Namespace) -> dict[str, list[str]]:
    base = [
        "igpt", "--max-steps", str(args.igpt_steps), "trainer.limit_val_batches=0",
        "trainer.limit_test_batches=0", "trainer.num_sanity_val_steps=0",
        "task.sample_count=0", *QUIET,
    ]  # fmt: skip
    return {
        "fp32": [*base, "--precision", "32-true"],
        "bf16": [*base, "--precision", "bf16-mixed"],
        "fp32+compile": [*base, "--precision", "32-true", "trainer.compile=true"],
    }


SECTIONS = {"sst2": sst2_configs, "gpt2": gpt2_configs, "igpt": igpt_configs}


def run(cmd: list[str], out: Path, env: dict[str, str]) -> dict[str, Any]:
    start = time.perf_counter()
    if cmd[0] == TRAINER_SST2:
        script = str(Path(__file__).with_name("trainer_sst2.py"))
        argv = [sys.executable, script, *cmd[1:], "--output-dir", str(out)]
    else:
        argv = [LTX, "train", *cmd, "--output-dir", str(out), "--overwrite"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stderr[-3000:]}")
    if cmd[0] == TRAINER_SST2:
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
    else:
        summary = json.loads((out / "summary.json").read_text())
    summary["process_wall_s"] = time.perf_counter() - start
    return summary


def row(name: str, s: dict[str, Any]) -> dict[str, Any]:
    tp = s["throughput"]
    m = s["metrics"]
    acc = m.get("test_acc")
    return {
        "config": name,
        "samples_per_s": tp.get("samples_per_s"),
        "tokens_per_s": tp.get("tokens_per_s"),
        "mfu": tp.get("mfu"),
        "flops_per_sample": tp.get("flops_per_sample"),
        "peak_memory_mb": s["peak_memory_mb"],
        "trainable_params": s["trainable_params"],
        "total_params": s["total_params"],
        "test_acc": acc,
        "test_loss": m.get("test_loss"),
        "wall_s": s["process_wall_s"],
        "precision": s.get("precision"),
    }


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def report(section: str, rounds: list[dict[str, dict[str, Any]]]) -> None:
    names = list(rounds[0])
    first = names[0]
    key = (
        "tokens_per_s"
        if rounds[0][first]["tokens_per_s"] and section == "gpt2"
        else ("samples_per_s")
    )
    print(f"\n## {section}: {len(rounds)} round(s); ratio = {key} / {first}'s in the same round")
    print(
        f"{'config':<14}{key:>14}{'ratio (min-max)':>22}{'MFU':>8}{'peak MB':>9}"
        f"{'trainable':>12}{'test_acc':>9}{'wall s':>8}"
    )
    for name in names:
        runs = [r[name] for r in rounds]
        ratios = [r[name][key] / r[first][key] for r in rounds if r[name][key] and r[first][key]]
        timed = [x[key] for x in runs if x[key]]  # a run too short to time has none
        med = statistics.median(timed) if timed else float("nan")
        mfu = statistics.median(x["mfu"] for x in runs if x["mfu"]) if runs[0]["mfu"] else 0.0
        mem = max(x["peak_memory_mb"] for x in runs)
        acc = runs[-1]["test_acc"]
        wall = statistics.median(x["wall_s"] for x in runs)
        print(
            f"{name:<14}{med:>14.1f}{spread(ratios):>22}{mfu:>8.3f}{mem:>9.0f}"
            f"{runs[0]['trainable_params']:>12,}{(acc if acc is not None else float('nan')):>9.3f}"
            f"{wall:>8.0f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sections", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--full", action="store_true", help="sst2: all 20,000 training phrases")
    ap.add_argument("--sst2-samples", type=int, default=1000)
    ap.add_argument("--gpt2-steps", type=int, default=4)
    ap.add_argument("--igpt-steps", type=int, default=20)
    ap.add_argument("--configs", nargs="+", help="Only these configurations (by name).")
    ap.add_argument("--json", type=Path, help="Also write every run's figures here.")
    args = ap.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    print(
        f"bench_perf: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
        f"rounds {args.rounds}"
    )
    everything: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        env.setdefault("LTX_CACHE_DIR", str(Path(tmp) / "cache"))
        for section in args.sections:
            configs = SECTIONS[section](args)
            if args.configs:
                configs = {k: v for k, v in configs.items() if k in args.configs}
                if not configs:
                    continue
            rounds = []
            for i in range(args.rounds):
                rounds.append(
                    {
                        name: row(name, run(cmd, Path(tmp) / f"{section}-{name}-{i}", env))
                        for name, cmd in configs.items()
                    }
                )
            report(section, rounds)
            everything[section] = rounds
    if args.json:
        args.json.write_text(json.dumps(everything, indent=2) + "\n")


if __name__ == "__main__":
    main()
