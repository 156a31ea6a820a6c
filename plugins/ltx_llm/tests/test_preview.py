"""``ltx data preview`` of chat data: ``trained`` marks exactly the assistant tokens, the
data checks and the packing layout are shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _runs(tokens: list[str], trained: list[bool], tokenizer: Any) -> list[str]:
    runs: list[list[str]] = []
    for k, (tok, keep) in enumerate(zip(tokens, trained, strict=True)):
        if keep:
            if k == 0 or not trained[k - 1]:
                runs.append([])
            runs[-1].append(tok)
    return [tokenizer.convert_tokens_to_string(r) for r in runs]


def _answers(samples: Path) -> list[list[str]]:
    rows = [json.loads(line) for line in (samples / "chat" / "train.jsonl").open()]
    return [
        [f"{m['content']}<|im_end|>" for m in r["messages"] if m["role"] == "assistant"]
        for r in rows
    ]


def _preview(ltx_cli: Any, *args: str) -> dict:
    result = ltx_cli("data", "preview", "chat", "--backbone", "tiny-llama", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_trained_marks_exactly_the_assistant_tokens(
    ltx_cli: Any, samples: Path, chat_tokenizer: Any
) -> None:
    answers = _answers(samples)
    preview = _preview(ltx_cli, "-n", "5", "dataset.packing=off")
    for example in preview["examples"]:
        runs = _runs(example["tokens"], example["trained"], chat_tokenizer)
        assert runs == answers[example["index"]]
    assert preview["stats"]["data_checks"]["examples"] == 128
    assert "packing" not in preview["stats"]


def test_packed_rows_show_their_layout(ltx_cli: Any, samples: Path, chat_tokenizer: Any) -> None:
    every = {a for conversation in _answers(samples) for a in conversation}
    preview = _preview(ltx_cli, "-n", "3")
    packing = preview["stats"]["packing"]
    assert packing["conversations"] == 128 and packing["rows"] < 128
    assert packing["padding"] < packing["padding_unpacked"]
    for example in preview["examples"]:
        assert sum(example["lengths"]) == len(example["tokens"])
        assert set(_runs(example["tokens"], example["trained"], chat_tokenizer)) <= every
    assert any(note.startswith("Packing:") for note in preview["notes"])
