"""The ltx checkpoint record: the one owner of what ltx adds to a Lightning checkpoint.

Every checkpoint a run writes carries, under :data:`CHECKPOINT_KEY`, the whole run config,
the dataset's hand-off and what the backbone saved about itself, so a checkpoint alone is
enough to test, predict, serve or resume. :func:`write_record` puts it in (the task does,
when Lightning saves); :func:`read_checkpoint` loads a file safely and returns it;
:func:`restore_of` turns it into the :class:`~ltx_core.handoff.Restore` a rebuilt model
gets. Records of older formats are upgraded on reading (:mod:`ltx_core.compat`).

Torch is imported only to read a file.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ltx_core.errors import LtxError
from ltx_core.handoff import Restore

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_KEY",
    "read_checkpoint",
    "restore_of",
    "write_record",
]

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


def read_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(checkpoint, its ltx record)``; a missing, unreadable or foreign file is refused."""
    import torch

    from ltx_core.compat import upgrade_record

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


def restore_of(path: str | Path, record: Mapping[str, Any]) -> Restore:
    """What a checkpoint's (current-format) record tells the rebuilt backbone and task."""
    return Restore(
        str(path), dict(record.get("handoff") or {}), dict(record.get("backbone_state") or {})
    )
