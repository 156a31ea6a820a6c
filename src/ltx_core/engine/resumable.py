"""Resuming inside an epoch: the rest of the epoch and the same random state.

Lightning restores the model, optimizer, schedulers and loop counters, but an ordinary
DataLoader starts its epoch again from the first batch, so a run killed mid-epoch and
resumed would see those batches twice. :class:`ResumePosition` (a callback, saved in
every checkpoint) counts the batches trained in the current epoch and the RNG states,
and on resume tells the training split's :class:`~ltx_core.sampling.SkippableSampler` to
skip what was trained and puts the RNG states back. The order itself comes from
:mod:`ltx_core.sampling`. With several processes Lightning wraps custom samplers for
distribution; there the epoch restarts from its first batch as before (the loop counters
still continue).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch

from ltx_core.sampling import SkippableSampler

__all__ = ["ResumePosition"]


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
        # The fit loop's epoch trackers count processed epochs too (typed as the base).
        epochs: Any = trainer.fit_loop.epoch_progress
        if mid_epoch and epochs.current.processed > epochs.current.completed:
            # A run stopped by --max-steps wrote its last checkpoint in on_train_epoch_end,
            # after Lightning had counted the cut-short epoch as processed; the samplers
            # take their epoch from that count, so the resumed run would read the next
            # epoch's order. The epoch is unfinished: count it so.
            epochs.current.processed = epochs.current.completed
            epochs.total.processed = epochs.total.completed
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
