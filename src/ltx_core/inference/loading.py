"""A model from a checkpoint alone: the run config, the dataset's hand-off and the
backbone's state travel inside every ltx checkpoint, so nothing has to be repeated.

The model is rebuilt with the hand-off it was trained with; whenever data is read
again (``ltx test``, ``ltx predict`` over the dataset), :func:`check_same_data` requires
the rebuilt dataset's hand-off to match it — other labels, another vocabulary or
palette are refused rather than scored into a silently wrong number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ltx_core.checkpoint import restore_of
from ltx_core.config.resolve import ResolvedConfig, resolve_config
from ltx_core.engine.build import build_task, build_tokenizer, dataset_handoff
from ltx_core.engine.checkpoints import read_checkpoint
from ltx_core.errors import LtxError
from ltx_core.handoff import HandOff, describe_handoff_difference

__all__ = ["check_same_data", "load_checkpoint"]


def load_checkpoint(
    path: str | Path, overrides: list[str] | None = None
) -> tuple[Any, ResolvedConfig, dict[str, Any]]:
    """Rebuild the task of a checkpoint on the CPU: ``(task, resolved config, raw checkpoint)``."""
    ckpt, meta = read_checkpoint(path)
    resolved = resolve_config(config_data=meta["config"], overrides=overrides)
    restore = restore_of(path, meta)
    tokenizer = build_tokenizer(resolved, restore)
    handoff = HandOff.model_validate(dict(restore.handoff))
    module = build_task(resolved, handoff, tokenizer, restore)
    missing, unexpected = module.load_state_dict(ckpt["state_dict"], strict=False)
    if unexpected or [m for m in missing if not m.endswith("num_batches_tracked")]:
        raise LtxError(
            f"Checkpoint '{path}' does not match its task: "
            f"{len(missing)} missing and {len(unexpected)} unexpected weights."
        )
    module.eval()
    return module, resolved, ckpt


def check_same_data(module: Any, datamodule: Any, resolved: ResolvedConfig, what: str) -> None:
    """Refuse data whose hand-off differs from the one the model was trained with."""
    rebuilt = dataset_handoff(datamodule, resolved)
    diff = describe_handoff_difference(module.handoff.as_dict(), rebuilt.as_dict())
    if diff:
        raise LtxError(
            f"Cannot {what} this checkpoint on the dataset "
            f"'{resolved.spec_name('dataset')}': its data differs from the training data: "
            f"{diff}."
        )
