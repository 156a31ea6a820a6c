"""Reading checkpoints and keeping ``last.ckpt`` current.

:func:`read_checkpoint` loads an ltx checkpoint and its ``ltx`` record (run config,
hand-off, backbone state) for ``ltx test``, ``ltx predict`` and ``--resume``.
:class:`LastCheckpoint` rewrites ``checkpoints/last.ckpt`` atomically at every epoch's
end, when training stops (whatever the validation schedule), and optionally every N
steps or M minutes.
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

from ltx_core.errors import LtxError
from ltx_core.handoff import Restore
from ltx_core.task import CHECKPOINT_KEY

__all__ = ["LastCheckpoint", "read_checkpoint", "restore_of"]


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
    return ckpt, meta


def restore_of(path: str | Path, meta: dict[str, Any]) -> Restore:
    """What a checkpoint's record tells the rebuilt backbone and task."""
    if "handoff" in meta:
        state = dict(meta.get("backbone_state") or {})
        if isinstance(meta.get("info"), dict):
            # Written by a task of ltx 0.1 into self.info; its backbone reads it back.
            state = {**meta["info"], **state}
        return Restore(str(path), dict(meta["handoff"]), state)
    # ltx 0.1 saved one ``info`` dict: the hand-off with the backbone's own state inside.
    info = {k: v for k, v in dict(meta.get("info") or {}).items() if k != "from_checkpoint"}
    return Restore(str(path), info, info)


class LastCheckpoint(pl.Callback):
    """Keeps ``last.ckpt`` the latest state: written to a temporary file, then renamed, so
    a kill during a save leaves the previous checkpoint whole."""

    def __init__(
        self, path: Path, every_n_steps: int | None = None, every_minutes: float | None = None
    ) -> None:
        self.path = Path(path)
        self.every_n_steps = every_n_steps
        self.every_s = every_minutes * 60 if every_minutes else None
        self._saved_step = -1
        self._saved_at = time.monotonic()

    def save(self, trainer: pl.Trainer) -> None:
        """Write the trainer's state to ``last.ckpt`` (every rank takes part)."""
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
