"""Packing: several conversations in one training sequence, with nothing leaking across.

Examples are placed first-fit by decreasing length into rows of at most ``max_length``
tokens. Each example keeps its own positions (they restart at 0) and the batch carries
``position_ids`` but no ``attention_mask``: from positions that restart, ``transformers``
builds a block-diagonal causal mask, so a token attends only to earlier tokens of its own
conversation (its ``find_packed_sequence_indices``; the same contract as its
``DataCollatorWithFlattening``). The first token of each example is never a target, so
no example learns to predict the next one's start. The padding at the end of a row is a
segment of its own with no targets.

Pure Python here; the collators turn rows into tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from ltx_nlp_hf.data.collate import pad_lists

from ltx_llm.rendering import IGNORE

__all__ = ["ChatCollator", "PackedCollator", "pack", "pad", "padding_fraction"]


def pack(lengths: Sequence[int], max_length: int) -> list[list[int]]:
    """Rows of example indices, first-fit decreasing, each row's lengths summing to at
    most ``max_length`` (deterministic: ties keep their order)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    rows: list[list[int]] = []
    room: list[int] = []
    for i in order:
        n = lengths[i]
        for r, free in enumerate(room):
            if n <= free:
                rows[r].append(i)
                room[r] -= n
                break
        else:
            rows.append([i])
            room.append(max_length - n)
    return rows


def padding_fraction(row_lengths: Sequence[int], batch_size: int) -> float:
    """Share of padding tokens when rows are batched in order, each batch padded to its
    longest row (what the loaders do)."""
    total = padded = 0
    for start in range(0, len(row_lengths), batch_size):
        chunk = row_lengths[start : start + batch_size]
        padded += max(chunk) * len(chunk)
        total += sum(chunk)
    return 0.0 if padded == 0 else 1.0 - total / padded


def pad(rows: Sequence[Sequence[int]], value: int, side: str = "right") -> torch.Tensor:
    """Token lists padded to the longest (ltx-nlp-hf's ``pad_lists``)."""
    return pad_lists(rows, max((len(r) for r in rows), default=0), value, side)


@dataclass
class ChatCollator:
    """Unpacked examples: right-padded ``input_ids``, ``attention_mask`` and ``labels``;
    test examples also carry their left-padded prompt and reference answer."""

    pad_token_id: int

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        ids = [f["input_ids"] for f in features]
        batch: dict[str, Any] = {
            "input_ids": pad(ids, self.pad_token_id),
            "attention_mask": pad([[1] * len(r) for r in ids], 0),
            "labels": pad([f["labels"] for f in features], IGNORE),
        }
        if "prompt_ids" in features[0]:
            prompts = [f["prompt_ids"] for f in features]
            batch["prompt_ids"] = pad(prompts, self.pad_token_id, side="left")
            batch["prompt_mask"] = pad([[1] * len(p) for p in prompts], 0, side="left")
            batch["reference"] = [f["reference"] for f in features]
        return batch


@dataclass
class PackedCollator:
    """Packed rows (lists of examples): ``input_ids``, ``labels`` and restarting
    ``position_ids``, and no attention mask (see the module docstring)."""

    pad_token_id: int

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        ids = [f["input_ids"] for f in features]
        longest = max(len(r) for r in ids)
        positions = []
        for f in features:
            row: list[int] = []
            for n in f["lengths"]:
                row.extend(range(n))
            # The padding is its own segment: positions restart for it too.
            row.extend(range(longest - len(row)))
            positions.append(row)
        return {
            "input_ids": pad(ids, self.pad_token_id),
            "labels": pad([f["labels"] for f in features], IGNORE),
            "position_ids": torch.tensor(positions, dtype=torch.long),
            # Real tokens (padding left out), for the throughput figures.
            "num_tokens": torch.tensor(sum(len(r) for r in ids)),
        }
