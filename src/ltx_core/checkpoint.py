"""The ltx checkpoint record: the one owner of what ltx adds to a Lightning checkpoint.

Every checkpoint of an ltx task carries, under :data:`CHECKPOINT_KEY`, the whole run
config, the dataset's hand-off and what the backbone saved about itself, so a checkpoint
alone is enough to test, predict, serve or resume. :func:`write_record` puts it in (the
task does, whenever Lightning saves it, whatever Trainer runs it); :func:`restore_of`
turns a record into the :class:`~ltx_core.handoff.Restore` a rebuilt model gets. Reading
a file safely (and upgrading records of older formats) is the engine's
(:func:`ltx_core.engine.checkpoints.read_checkpoint`). Torch-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ltx_core.handoff import Restore

__all__ = ["CHECKPOINT_FORMAT", "CHECKPOINT_KEY", "restore_of", "write_record"]

#: The key of ltx's record in a Lightning checkpoint.
CHECKPOINT_KEY = "ltx"
#: 1: ltx 0.1 (``config`` and ``info``); 2: ``config``, ``handoff``, ``backbone_state``.
CHECKPOINT_FORMAT = 2


def write_record(
    checkpoint: dict[str, Any],
    *,
    config: Mapping[str, Any],
    handoff: Mapping[str, Any],
    backbone_state: Mapping[str, Any],
) -> None:
    """Put ltx's record into a checkpoint Lightning is saving (JSON-able values only, so
    it loads with ``weights_only=True``)."""
    checkpoint[CHECKPOINT_KEY] = {
        "format": CHECKPOINT_FORMAT,
        "config": dict(config),
        "handoff": dict(handoff),
        "backbone_state": dict(backbone_state),
    }


def restore_of(path: str | Path, record: Mapping[str, Any]) -> Restore:
    """What a checkpoint's (current-format) record tells the rebuilt backbone and task."""
    return Restore(
        str(path), dict(record.get("handoff") or {}), dict(record.get("backbone_state") or {})
    )
