"""Checkpoint files: :func:`read_checkpoint` loads one safely (``weights_only``) with its
ltx record (:mod:`ltx_core.checkpoint`), upgraded from older formats; and
:class:`LastCheckpoint` rewrites ``checkpoints/last.ckpt`` atomically at every epoch's
end, when training stops (whatever the validation schedule), on Ctrl-C and SIGTERM, and
optionally every N steps or M minutes.
"""

from __future__ import annotations

import os
import pickle
import re
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities.exceptions import SIGTERMException

from ltx_core.checkpoint import CHECKPOINT_KEY
from ltx_core.compat import upgrade_record
from ltx_core.errors import LtxError

__all__ = ["LastCheckpoint", "read_checkpoint", "read_record"]


def read_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(checkpoint, its ltx record)``; a missing, unreadable or foreign file is refused."""
    p = Path(path)
    if not p.is_file():
        raise LtxError(f"Checkpoint '{p}' does not exist.")
    try:
        # weights_only: tensors and plain containers only, which is all an ltx checkpoint
        # holds (configs and hand-offs are saved as JSON-able dicts). Anything else could
        # run code while it is unpickled, so it is refused before it is built.
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if not re.search(r"Unsupported global|GLOBAL ", str(exc)):
            raise LtxError(f"'{p}' is not a readable checkpoint (UnpicklingError).") from None
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        what = f" ({found.group(1)})" if found else ""
        raise LtxError(
            f"Refusing '{p}': it holds objects other than tensors and plain data{what}, and "
            "loading those could run code; ltx's own checkpoints never do."
        ) from None
    except Exception as exc:
        raise LtxError(f"'{p}' is not a readable checkpoint ({type(exc).__name__}).") from None
    meta = ckpt.get(CHECKPOINT_KEY) if isinstance(ckpt, dict) else None
    if not isinstance(meta, dict) or "config" not in meta:
        raise LtxError(f"'{p}' is not an ltx checkpoint (it has no run config).")
    return ckpt, upgrade_record(meta)


def read_record(path: str | Path) -> dict[str, Any]:
    """The ltx record of a checkpoint (its run config, hand-off, versions) without reading
    its weights: the file is memory-mapped, and tensors never touched are never read."""
    p = Path(path)
    if not p.is_file():
        raise LtxError(f"Checkpoint '{p}' does not exist.")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True, mmap=True)
    except Exception:
        return read_checkpoint(p)[1]  # an older file format: read whole, errors in one place
    meta = ckpt.get(CHECKPOINT_KEY) if isinstance(ckpt, dict) else None
    if not isinstance(meta, dict) or "config" not in meta:
        raise LtxError(f"'{p}' is not an ltx checkpoint (it has no run config).")
    return upgrade_record(meta)


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
