"""Test and predict from a checkpoint alone: the run config and the dataset hand-off travel
inside every ltx checkpoint, so nothing has to be repeated on the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from ltx_core.build import build_datamodule, build_task, build_tokenizer
from ltx_core.errors import LtxError
from ltx_core.resolve import ResolvedConfig, resolve_config
from ltx_core.task import CHECKPOINT_KEY
from ltx_core.training import check_accelerator

__all__ = ["load_checkpoint", "predict", "test"]


def load_checkpoint(
    path: str | Path, overrides: list[str] | None = None
) -> tuple[Any, ResolvedConfig, dict[str, Any]]:
    """Rebuild the task of a checkpoint on the CPU: ``(task, resolved config, raw checkpoint)``."""
    p = Path(path)
    if not p.is_file():
        raise LtxError(f"Checkpoint '{p}' does not exist.")
    try:
        # Our own checkpoints hold plain config dicts next to the tensors.
        ckpt = torch.load(p, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise LtxError(f"'{p}' is not a readable checkpoint ({type(exc).__name__}).") from None
    meta = ckpt.get(CHECKPOINT_KEY) if isinstance(ckpt, dict) else None
    if not meta or "config" not in meta:
        raise LtxError(f"'{p}' is not an ltx checkpoint (it has no run config).")
    resolved = resolve_config(config_data=meta["config"], overrides=overrides)
    info = dict(meta.get("info", {}))
    info["from_checkpoint"] = True
    tokenizer = build_tokenizer(resolved)
    module = build_task(resolved, info, tokenizer)
    missing, unexpected = module.load_state_dict(ckpt["state_dict"], strict=False)
    if unexpected or [m for m in missing if not m.endswith("num_batches_tracked")]:
        raise LtxError(
            f"Checkpoint '{p}' does not match its task: "
            f"{len(missing)} missing and {len(unexpected)} unexpected weights."
        )
    module.eval()
    return module, resolved, ckpt


def test(
    path: str | Path, overrides: list[str] | None = None, *, accelerator: str = "auto"
) -> dict[str, float]:
    """Evaluate a checkpoint on its dataset's test split; returns the test metrics."""
    module, resolved, _ = load_checkpoint(path, overrides)
    cfg: Any = resolved.config
    check_accelerator(cfg.trainer.model_copy(update={"accelerator": accelerator}))
    datamodule = build_datamodule(resolved, module.tokenizer)
    datamodule.prepare_data()
    datamodule.setup("test")
    if not datamodule.has_test:
        raise LtxError(f"The dataset '{cfg.dataset.name}' of this checkpoint has no test split.")
    trainer = pl.Trainer(
        accelerator=accelerator,
        devices=1,
        logger=False,
        enable_checkpointing=False,
        precision=cfg.trainer.precision,
        limit_test_batches=cfg.trainer.limit_test_batches,
        enable_progress_bar=cfg.trainer.enable_progress_bar,
    )
    results = trainer.test(module, datamodule=datamodule, verbose=False)
    out: dict[str, float] = {}
    for result in results:
        out.update({k: float(v) for k, v in result.items()})
    return out


def predict(
    path: str | Path, inputs: list[str], out_dir: str | Path, options: dict[str, str] | None = None
) -> list[Any]:
    """Task-specific inference from a checkpoint; writes any files under ``out_dir``."""
    module, resolved, _ = load_checkpoint(path)
    datamodule = (
        build_datamodule(resolved, module.tokenizer) if resolved.specs.get("dataset") else None
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        return list(module.predict_inputs(inputs, out, datamodule, **(options or {})))
