"""Batch collators: dynamic padding (each batch padded to its own longest input).

Module-level classes rather than closures, so DataLoader worker processes can
pickle them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["MultipleChoiceCollator", "PadCollator", "pad_lists"]


def _round_up(n: int, multiple: int | None) -> int:
    return n if not multiple else (n + multiple - 1) // multiple * multiple


def pad_lists(rows: Sequence[Sequence[int]], length: int, value: int, side: str) -> torch.Tensor:
    """Token lists as one (rows, length) tensor: cut to ``length``, padded with ``value``
    on ``side`` (``right`` or ``left``)."""
    out = torch.full((len(rows), length), value, dtype=torch.long)
    for i, row in enumerate(rows):
        row = list(row)[:length]
        if side == "left":
            out[i, length - len(row) :] = torch.tensor(row, dtype=torch.long)
        else:
            out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    return out


@dataclass
class PadCollator:
    """Pad token inputs with the tokenizer; pad or stack labels; drop bookkeeping columns.

    ``label_pad`` set means labels are token sequences: padded to the inputs' length
    when ``labels_follow_inputs`` (token classification), else to their own longest
    (seq2seq targets). Unset means one label per example (a class, a number or a vector).
    """

    tokenizer: Any
    padding: str = "longest"
    max_length: int | None = None
    pad_to_multiple_of: int | None = None
    drop: tuple[str, ...] = ()
    scalars: tuple[str, ...] = ()
    label_pad: int | None = None
    labels_follow_inputs: bool = False

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        rows = [{k: v for k, v in f.items() if k not in self.drop} for f in features]
        extra = {k: torch.tensor([r.pop(k) for r in rows]) for k in self.scalars if k in rows[0]}
        labels = [r.pop("labels") for r in rows] if "labels" in rows[0] else None
        batch = dict(
            self.tokenizer.pad(
                rows,
                padding=self.padding,
                max_length=self.max_length if self.padding == "max_length" else None,
                pad_to_multiple_of=self.pad_to_multiple_of,
                return_tensors="pt",
            )
        )
        if labels is not None:
            if self.label_pad is None:
                batch["labels"] = torch.tensor(labels)
            else:
                if self.labels_follow_inputs:
                    length = batch["input_ids"].shape[-1]
                elif self.padding == "max_length" and self.max_length:
                    length = self.max_length
                else:
                    length = _round_up(max(len(x) for x in labels), self.pad_to_multiple_of)
                batch["labels"] = pad_lists(
                    labels, length, self.label_pad, self.tokenizer.padding_side
                )
        batch.update(extra)
        return batch


@dataclass
class MultipleChoiceCollator:
    """Pad every choice of every example to one length: ``(batch, choices, length)``."""

    tokenizer: Any
    padding: str = "longest"
    max_length: int | None = None
    pad_to_multiple_of: int | None = None

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        labels = [f["labels"] for f in features] if "labels" in features[0] else None
        n_choices = len(features[0]["input_ids"])
        keys = [k for k in features[0] if k != "labels"]
        flat = [{k: f[k][i] for k in keys} for f in features for i in range(n_choices)]
        batch = self.tokenizer.pad(
            flat,
            padding=self.padding,
            max_length=self.max_length if self.padding == "max_length" else None,
            pad_to_multiple_of=self.pad_to_multiple_of,
            return_tensors="pt",
        )
        out = {k: v.view(len(features), n_choices, -1) for k, v in batch.items()}
        if labels is not None:
            out["labels"] = torch.tensor(labels, dtype=torch.long)
        return out
