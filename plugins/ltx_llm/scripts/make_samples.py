"""Write the packaged chat sample and the tiny chat tokenizer of ltx-llm.

Run from the repository root (``python plugins/ltx_llm/scripts/make_samples.py``); the
output is committed, so installing the plugin needs none of this. Deterministic: the
same inputs give the same files.

The sample mixes two kinds of conversation: single-turn sentiment questions on phrases
of ltx-nlp-hf's packaged SST-2 sample (answer ``positive``/``negative``), and multi-turn
arithmetic (each turn builds on the last answer), some with a system message — enough
to exercise multi-turn masks, packing and the test split's generated answers.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "plugins/ltx_llm/src/ltx_llm/sample_data"
SST2 = ROOT / "plugins/ltx_nlp_hf/src/ltx_nlp_hf/sample_data/sst2"
QUESTION = "Is the sentiment of this review positive or negative? Answer in one word."
SYSTEMS = ["You are a careful assistant.", "Answer briefly."]
CHATML = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def sentiment(rows: list[tuple[str, str]]) -> list[dict]:
    return [
        {
            "messages": [
                {"role": "user", "content": f"{QUESTION}\n\n{text.strip()}"},
                {"role": "assistant", "content": "positive" if label == "1" else "negative"},
            ]
        }
        for text, label in rows
    ]


def arithmetic(n: int, rng: random.Random) -> list[dict]:
    out = []
    for i in range(n):
        a, b = rng.randint(2, 20), rng.randint(2, 20)
        k = rng.randint(2, 5)
        messages = []
        if i % 3 == 0:
            messages.append({"role": "system", "content": SYSTEMS[i % 2]})
        messages += [
            {"role": "user", "content": f"What is {a} plus {b}?"},
            {"role": "assistant", "content": f"{a} plus {b} is {a + b}."},
            {"role": "user", "content": f"And that times {k}?"},
            {"role": "assistant", "content": f"{a + b} times {k} is {(a + b) * k}."},
        ]
        out.append({"messages": messages})
    return out


def read_sst2(name: str) -> list[tuple[str, str]]:
    with open(SST2 / name, encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))[1:]
    # Whole sentences or long phrases: a one-word phrase is no review.
    return [(t, y) for t, y in rows if len(t.split()) >= 4]


def write(name: str, rows: list[dict]) -> None:
    with open(OUT / "chat" / name, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def make_chat() -> list[str]:
    rng = random.Random(0)
    train = sentiment(read_sst2("train.tsv")[:96]) + arithmetic(32, rng)
    validation = sentiment(read_sst2("dev.tsv")[:16]) + arithmetic(8, rng)
    test = sentiment(read_sst2("test.tsv")[:16]) + arithmetic(8, rng)
    rng.shuffle(train)
    write("train.jsonl", train)
    write("validation.jsonl", validation)
    write("test.jsonl", test)
    return [m["content"] for rows in (train, validation) for r in rows for m in r["messages"]]


def make_preference() -> None:
    """Pairs on the sentiment phrases: the right word chosen, the other one rejected."""
    for name, source, count in (
        ("train.jsonl", "train.tsv", 96),
        ("validation.jsonl", "dev.tsv", 16),
        ("test.jsonl", "test.tsv", 16),
    ):
        rows = []
        for text, label in read_sst2(source)[:count]:
            right, wrong = ("positive", "negative") if label == "1" else ("negative", "positive")
            rows.append(
                {"prompt": f"{QUESTION}\n\n{text.strip()}", "chosen": right, "rejected": wrong}
            )
        (OUT / "preference").mkdir(parents=True, exist_ok=True)
        with open(OUT / "preference" / name, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")


def make_tokenizer(texts: list[str]) -> None:
    """A byte-level BPE of 1,024 tokens with ChatML's special tokens and template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    extra = ["system", "user", "assistant", "You are a helpful AI assistant named SmolLM"]
    tok.train_from_iterator(texts + extra * 20, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        unk_token="<|endoftext|>",
        pad_token="<|im_end|>",
    )
    fast.chat_template = CHATML
    fast.save_pretrained(OUT / "tiny_tokenizer")


if __name__ == "__main__":
    (OUT / "chat").mkdir(parents=True, exist_ok=True)
    make_tokenizer(make_chat())
    make_preference()
    print(f"Wrote {OUT}")
