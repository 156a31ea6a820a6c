"""``--resume``: refuse to continue on other data or a changed config (unless allowed),
and keep the earlier rows of ``metrics.csv`` that Lightning's CSV logger would drop."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ltx_core.checkpoint import restore_of
from ltx_core.config.resolve import ResolvedConfig
from ltx_core.engine.checkpoints import read_checkpoint
from ltx_core.errors import LtxError
from ltx_core.handoff import HandOff, describe_handoff_difference
from ltx_core.runs.listing import flatten

__all__ = ["SAFE_TO_CHANGE", "check_resume", "config_changes", "merge_metrics"]

log = logging.getLogger(__name__)


#: Keys a resumed run may change without --allow-changes: how long and how it is watched,
#: not what is trained.
SAFE_TO_CHANGE = (
    "output_dir",
    "trainer.max_epochs",
    "trainer.max_steps",
    "trainer.enable_progress_bar",
    "trainer.log_every_n_steps",
    "trainer.checkpoint_every_n_steps",
    "trainer.checkpoint_every_minutes",
    "trainer.tensorboard",
    "trainer.compile",
)


def config_changes(saved: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """``key: old -> new`` for every leaf that differs between two run configs."""
    a, b = flatten(saved), flatten(now)
    return [
        f"{key}: {a.get(key, '(unset)')!r} -> {b.get(key, '(unset)')!r}"
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
    ]


def check_resume(
    last: Path, handoff: HandOff, resolved: ResolvedConfig, allow_changes: bool
) -> int:
    """Refuse to resume on other data, or with a changed config unless allowed; the step
    the run is at."""
    ckpt, meta = read_checkpoint(last)
    saved = restore_of(last, meta).handoff
    diff = describe_handoff_difference(saved, handoff.as_dict())
    if diff:
        raise LtxError(f"Cannot resume from '{last}': the data differs from the run's: {diff}.")
    changes = config_changes(meta["config"], resolved.to_dict())
    unsafe = [c for c in changes if not c.startswith(SAFE_TO_CHANGE)]
    if unsafe and not allow_changes:
        raise LtxError(
            f"Resuming with a changed config ({'; '.join(unsafe)}); pass --allow-changes to "
            "resume with it anyway, or drop those changes."
        )
    for change in changes:
        log.warning("Resuming with %s", change)
    return int(ckpt.get("global_step", 0))


def merge_metrics(earlier: Path, now: Path) -> None:
    """Put a resumed run's earlier rows back in front of metrics.csv: Lightning's CSV
    logger removes the file when it starts in a folder that holds one."""
    import csv

    rows: list[dict[str, str]] = []
    fields: dict[str, None] = {}
    for path in (earlier, now):
        if path.is_file():
            with path.open(newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                fields.update(dict.fromkeys(reader.fieldnames or []))
                rows.extend(reader)
    tmp = now.with_name(now.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(now)
    earlier.unlink(missing_ok=True)
