"""The checkpoint callbacks of every run: :class:`RunRecord` puts ltx's record (run
config, hand-off, backbone state; :mod:`ltx_core.checkpoint`) into each checkpoint
Lightning saves, and :class:`LastCheckpoint` rewrites ``checkpoints/last.ckpt``
atomically at every epoch's end, when training stops (whatever the validation schedule),
on Ctrl-C and SIGTERM, and optionally every N steps or M minutes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.utilities.exceptions import SIGTERMException

from ltx_core.checkpoint import write_record

__all__ = ["LastCheckpoint", "RunRecord"]


class RunRecord(pl.Callback):
    """Saves what rebuilds the model without its run: the task's run config, the dataset's
    hand-off and the backbone's own state, with every checkpoint."""

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        task: Any = pl_module
        write_record(
            checkpoint,
            config=task.run_config,
            handoff=task.handoff.as_dict(),
            backbone_state=task.backbone_state,
        )


class LastCheckpoint(pl.Callback):
    """Keeps ``last.ckpt`` the latest state: written to a temporary file, then renamed, so
    a kill during a save leaves the previous checkpoint whole."""

    def __init__(
        self,
        path: Path,
        every_n_steps: int | None = None,
        every_minutes: float | None = None,
        guard: Any = None,
    ) -> None:
        self.path = Path(path)
        #: A :class:`~ltx_core.engine.callbacks.FiniteLoss`: once it has tripped, the
        #: weights are not finite and ``last.ckpt`` keeps the last state that was.
        self.guard = guard
        self.every_n_steps = every_n_steps
        self.every_s = every_minutes * 60 if every_minutes else None
        self._saved_step = -1
        self._saved_at = time.monotonic()

    def save(self, trainer: pl.Trainer) -> None:
        """Write the trainer's state to ``last.ckpt`` (every rank takes part)."""
        if self.guard is not None and self.guard.tripped:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A save, not a load: the whole state (optimizer, loops, callbacks) for --resume.
        whole_state = {"weights_only": False}
        trainer.save_checkpoint(tmp, **whole_state)
        if trainer.is_global_zero:
            os.replace(tmp, self.path)
        trainer.strategy.barrier("ltx-last-checkpoint")
        self._saved_step = trainer.global_step
        self._saved_at = time.monotonic()

    def on_train_batch_end(self, trainer: pl.Trainer, *_: Any) -> None:
        step = trainer.global_step
        if step == self._saved_step:
            return
        due = bool(self.every_n_steps) and step % int(self.every_n_steps or 1) == 0
        if self.every_s is not None and time.monotonic() - self._saved_at >= self.every_s:
            due = True
        if due:
            self.save(trainer)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.save(trainer)

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        # Ctrl-C and SIGTERM (preemption): keep what was trained, whatever the schedule.
        if isinstance(exception, (KeyboardInterrupt, SIGTERMException)):
            self.save(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.global_step != self._saved_step or not self.path.exists():
            self.save(trainer)
