"""Resuming inside an epoch: the same data order, the rest of the epoch, the same RNG.

Lightning restores the model, optimizer, schedulers and loop counters, but an ordinary
DataLoader starts its epoch again from the first batch, so a run killed mid-epoch and
resumed sees those batches twice. Here:

- :class:`EpochSampler` orders each epoch from ``(seed, epoch)`` alone (Lightning calls
  ``set_epoch``), so a resumed process gets the order the killed one had;
- :class:`ResumePosition` (a callback, saved in every checkpoint) counts the batches
  trained in the current epoch and the RNG states, and on resume tells the sampler to
  skip what was trained and puts the RNG states back;
- the sampler's indices are :class:`EpochIndex` (an ``int`` that knows its epoch), so a
  dataset that augments can draw its randomness from :func:`sample_generator`, decided by
  ``(seed, epoch, index)`` alone. The global RNG is no good for that: the loader has
  already fetched (and augmented) the next batches when a checkpoint saves it, so a resumed
  run would augment its first batches differently; a per-sample generator also gives the
  same augmentation whatever the number of loader workers.

With several processes Lightning wraps custom samplers for distribution; there the epoch
restarts from its first batch as before (the loop counters still continue).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sized
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import Sampler

__all__ = ["EpochIndex", "EpochSampler", "ResumePosition", "SkippableSampler", "sample_generator"]


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


def _rng_states() -> dict[str, Any]:
    return {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }


def _set_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])


class ResumePosition(pl.Callback):
    """Saves the RNG states with every checkpoint; on a resume inside an epoch, skips the
    batches Lightning's restored loop counters say were trained and restores the RNG."""

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        # Plain values and tensors only: checkpoints load with weights_only=True.
        states = _rng_states()
        np_state = states["numpy"]
        return {
            "torch_rng": states["torch"],
            "numpy_rng": [np_state[0], torch.from_numpy(np_state[1].copy()), *np_state[2:]],
            "python_rng": [states["python"][0], list(states["python"][1]), states["python"][2]],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = dict(state_dict)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Lightning resumes a partly trained epoch without calling on_train_epoch_start,
        # and iterates its loader only after this hook.
        pending, self._pending = self._pending, None
        if pending is None:
            return
        # "processed", not "completed": a step checkpoint is written in on_train_batch_end,
        # after the batch was trained and before Lightning counts it completed.
        current = trainer.fit_loop.epoch_loop.batch_progress.current
        done = int(getattr(current, "processed", current.completed))
        loader = trainer.train_dataloader
        sampler = getattr(loader, "sampler", None)
        batch_size = getattr(loader, "batch_size", None)
        mid_epoch = 0 < done < trainer.num_training_batches
        if mid_epoch and batch_size and isinstance(sampler, SkippableSampler):
            sampler.skip_next(done * int(batch_size))
        np_state, py_state = pending["numpy_rng"], pending["python_rng"]
        _set_rng_states(
            {
                "torch": pending["torch_rng"],
                "numpy": (np_state[0], np_state[1].numpy(), *np_state[2:]),
                "python": (py_state[0], tuple(py_state[1]), py_state[2]),
            }
        )
