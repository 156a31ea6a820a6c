"""Optuna pruning for a trial's Lightning run: report the watched metric after every
validation, and stop the run when the study's pruner says so.

Why not ``optuna_integration.PyTorchLightningPruningCallback``: optuna-integration 5
subclasses ``lightning.pytorch.Callback`` (the unified ``lightning`` package), while ltx's
Trainer is ``pytorch_lightning``'s; Lightning refuses a callback of the other package's
class. This is the same logic on ``pytorch_lightning.Callback`` (``trial.report`` then
``trial.should_prune`` after each validation, skipping the sanity check), with two
changes for ltx's run directory contract:

- it stops the run through ``trainer.should_stop`` instead of raising ``TrialPruned``
  inside ``fit``, so the trial's folder still gets its test metrics, ``last.ckpt`` and
  ``summary.json``; the sweep raises ``TrialPruned`` once ``train`` has returned;
- it reports at the n-th validation rather than at the epoch: the n-th validation is
  the same point of every trial whatever its batch size, and validating several times
  an epoch (``val_check_interval``) would report one epoch twice.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytorch_lightning as pl

__all__ = ["PruningCallback"]


class PruningCallback(pl.Callback):
    """Report ``monitor`` to an Optuna trial after each validation; stop when pruned."""

    def __init__(self, trial: Any, monitor: str) -> None:
        super().__init__()
        self._trial = trial
        self.monitor = monitor
        self.validations = 0
        self.pruned_at_step: int | None = None
        self.warned = False

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is None:
            if self.warned:
                return
            self.warned = True
            warnings.warn(
                f"The sweep's metric '{self.monitor}' is not among the validation metrics "
                f"({', '.join(sorted(trainer.callback_metrics)) or 'none'}); nothing to prune by.",
                stacklevel=1,
            )
            return
        score = float(value)
        step = self.validations
        self.validations += 1
        # A diverged run reports NaN: Optuna's pruners prune on it, which is what a user
        # of a bad learning rate wants.
        self._trial.report(score if not math.isinf(score) else math.nan, step=step)
        if self._trial.should_prune():
            self.pruned_at_step = trainer.global_step
            trainer.should_stop = True
