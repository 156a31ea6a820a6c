"""Training orders that a resumed run can repeat and skip into, for datasets to use.

- :class:`EpochSampler` orders each epoch from ``(seed, epoch)`` alone (Lightning calls
  ``set_epoch``), so a resumed process gets the order the killed one had;
- :class:`SkippableSampler` skips the batches of an epoch that were already trained
  (told so by the engine's resume callback);
- the samplers' indices are :class:`EpochIndex` (an ``int`` that knows its epoch), so a
  dataset that augments can draw its randomness from :func:`sample_generator`, decided by
  ``(seed, epoch, index)`` alone — the same augmentation after a resume and whatever the
  number of loader workers.

``LtxDataModule.loader`` uses them for every shuffled training split.
"""

from __future__ import annotations

from collections.abc import Iterator, Sized
from typing import Any

import torch
from torch.utils.data import Sampler

__all__ = ["EpochIndex", "EpochSampler", "SkippableSampler", "sample_generator"]


class EpochIndex(int):
    """A dataset index that also carries the epoch it was drawn for (it is an ``int``
    everywhere else, so any dataset indexes with it as before)."""

    epoch: int

    def __new__(cls, value: int, epoch: int) -> EpochIndex:
        index = super().__new__(cls, value)
        index.epoch = epoch
        return index

    def __reduce__(self) -> tuple[Any, tuple[int, int]]:
        # Loader workers receive their indices pickled: keep the epoch on the way.
        return (EpochIndex, (int(self), self.epoch))


def sample_generator(index: int, seed: int) -> torch.Generator | None:
    """A generator decided by ``(seed, epoch, index)`` for augmenting one sample, or
    ``None`` (use the global RNG) when the index does not know its epoch (e.g. a loader
    built without ltx's sampler)."""
    epoch = getattr(index, "epoch", None)
    if epoch is None:
        return None
    # hash() of a tuple of ints is the same in every process (no hash randomisation).
    return torch.Generator().manual_seed(hash((seed, epoch, int(index))) & 0x7FFF_FFFF_FFFF_FFFF)


class SkippableSampler(Sampler[int]):
    """Wraps any index sampler: forwards ``set_epoch`` and can skip the next epoch's first
    ``n`` indices (without loading them)."""

    def __init__(self, inner: Sampler[Any] | Any) -> None:
        self.inner = inner
        self._skip = 0

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.inner, "set_epoch"):
            self.inner.set_epoch(epoch)

    def skip_next(self, n: int) -> None:
        """Leave out the first ``n`` indices of the next iteration."""
        self._skip = max(0, int(n))

    def __iter__(self) -> Iterator[Any]:
        skip, self._skip = self._skip, 0
        for i, index in enumerate(self.inner):
            if i >= skip:
                yield index

    def __len__(self) -> int:
        return len(self.inner) if isinstance(self.inner, Sized) else 0


class EpochSampler(Sampler[int]):
    """A shuffle decided by ``(seed, epoch)`` only: the same in every process and after a
    restart."""

    def __init__(self, size: int, seed: int, *, shuffle: bool = True) -> None:
        self.size = size
        self.seed = seed
        self.shuffle = shuffle
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        epoch = self.epoch
        if not self.shuffle:
            order: Iterator[int] | list[int] = iter(range(self.size))
        else:
            gen = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
            order = torch.randperm(self.size, generator=gen).tolist()
        for i in order:
            yield EpochIndex(i, epoch)

    def __len__(self) -> int:
        return self.size
