"""Length-grouped sampling: batches of similar lengths, so dynamic padding pads little.

Each epoch the indices are shuffled, cut into "mega-batches" of ``group`` batches, and
each mega-batch is sorted by length (longest first), as ``transformers.Trainer``'s
``group_by_length`` does. Batches stay random in content and order of magnitude of
length, but inside one batch the lengths are close. A plain index sampler, so
Lightning can wrap it for distributed runs, and ``set_epoch`` reshuffles.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler

__all__ = ["LengthGroupedSampler", "example_lengths"]


def example_lengths(dataset: object) -> list[int]:
    """Token count of every example (the widest choice, for multiple choice)."""
    import pyarrow.compute as pc

    table = dataset.data  # type: ignore[attr-defined]
    column = table.column("input_ids")
    if column.type.value_type.__class__.__name__.endswith("ListType"):  # (choices, tokens)
        return [max((len(c) for c in row), default=0) for row in column.to_pylist()]
    return pc.list_value_length(column).to_pylist()


class LengthGroupedSampler(Sampler[int]):
    """Shuffled indices where every run of ``batch_size`` has similar lengths."""

    def __init__(
        self, lengths: Sequence[int], batch_size: int, seed: int = 0, group: int = 50
    ) -> None:
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.group = group
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self) -> Iterator[int]:
        gen = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(len(self.lengths), generator=gen).tolist()
        size = self.batch_size * self.group
        out: list[int] = []
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            chunk.sort(key=lambda i: self.lengths[i], reverse=True)
            out.extend(chunk)
        return iter(out)
