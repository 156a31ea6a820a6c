"""The progress bar of ltx runs: Lightning's, with a step-limited run's totals right.

Lightning's bar reads ``Epoch 0/-2`` when only ``max_steps`` limits a run (it prints
``max_epochs - 1``), and its per-epoch total is the whole epoch even when the run stops
after a few steps of it.
"""

from __future__ import annotations

import math
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import RichProgressBar, TQDMProgressBar
from pytorch_lightning.utilities.imports import _RICH_AVAILABLE

__all__ = ["progress_bar"]


class _StepAware:
    """Mix-in: totals and descriptions that know about ``max_steps``."""

    trainer: pl.Trainer
    _epoch_total: float | None = None

    def _remaining_batches(self, total: float) -> float:
        t = self.trainer
        if t.max_steps is None or t.max_steps < 0:
            return total
        left = (t.max_steps - t.global_step) * t.accumulate_grad_batches
        return min(total, max(0, left)) if math.isfinite(total) else float(left)

    def _description(self, epoch: int) -> str:
        t = self.trainer
        text = f"Epoch {epoch}"
        if t.max_epochs is not None and t.max_epochs > 0:
            text += f"/{t.max_epochs - 1}"
        return text


class _Rich(_StepAware, RichProgressBar):
    @property
    def total_train_batches(self) -> int | float:
        total = super().total_train_batches
        return self._epoch_total if self._epoch_total is not None else total

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._epoch_total = None
        self._epoch_total = self._remaining_batches(super().total_train_batches)
        super().on_train_epoch_start(trainer, pl_module)

    def _get_train_description(self, current_epoch: int) -> str:
        text = self._description(current_epoch)
        width = len(self.validation_description)
        return f"{text:{width}}" if width > len(text) else text


class _Tqdm(_StepAware, TQDMProgressBar):
    @property
    def total_train_batches(self) -> int | float:
        total = super().total_train_batches
        return self._epoch_total if self._epoch_total is not None else total

    def on_train_epoch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        self._epoch_total = None
        self._epoch_total = self._remaining_batches(super().total_train_batches)
        super().on_train_epoch_start(trainer, *args)
        self.train_progress_bar.set_description(self._description(trainer.current_epoch))


def progress_bar() -> pl.Callback:
    """The bar Lightning would pick (Rich when installed), with step-aware totals."""
    return _Rich() if _RICH_AVAILABLE else _Tqdm()
