"""The linear probe's frozen backbone: which layer it reads, and loading it from a checkpoint."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
from torch import Tensor, nn

from ltx_core.errors import LtxError

__all__ = ["load_pretrained_backbone", "probe_layer"]


def probe_layer(configured: int | None, n_layer: int) -> int:
    """The block whose output the probe reads: ``task.probe_layer``, else the middle one."""
    layer = configured if configured is not None else max(1, n_layer // 2)
    if not 0 < layer <= n_layer:
        raise ValueError(f"task.probe_layer must be between 1 and {n_layer}, got {layer}.")
    return layer


def load_pretrained_backbone(backbone: nn.Module, palette: Tensor, path: Path) -> None:
    """Load an igpt run's backbone weights (not its class head) and palette from ``path``.

    ``palette`` is overwritten in place with the checkpoint's: the model's tokens mean
    the colours it was trained on, not a re-fitted palette. Every mismatch is an
    :class:`LtxError` naming the settings the checkpoint was trained with.
    """
    if not path.is_file():
        raise LtxError(
            f"task.probe_checkpoint '{path}' does not exist; give the checkpoint of an "
            "igpt run (e.g. RUN/checkpoints/last.ckpt)."
        )
    # Tensors and plain data only, as the core reads every checkpoint: a file holding
    # anything else could run code while it is unpickled.
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise LtxError(
            f"Refusing task.probe_checkpoint '{path}': it holds objects other than tensors "
            "and plain data, and loading those could run code."
        ) from None
    state = ckpt.get("state_dict", {}) if isinstance(ckpt, dict) else {}
    weights = {
        k.removeprefix("backbone."): v
        for k, v in state.items()
        if k.startswith("backbone.") and not k.startswith("backbone.classifier.")
    }
    if not weights:
        raise LtxError(f"'{path}' holds no igpt backbone weights.")
    trained_with = (ckpt.get("ltx") or {}).get("config", {}).get("backbone")
    hint = f" It was trained with backbone {trained_with}." if trained_with else ""
    own = {k: v for k, v in backbone.state_dict().items() if not k.startswith("classifier.")}
    if set(own) != set(weights):
        raise LtxError(
            f"The backbone in '{path}' has different layers from this run's; run the probe "
            f"with the backbone settings it was trained with.{hint}"
        )
    for key, value in own.items():
        if weights[key].shape != value.shape:
            raise LtxError(
                f"'{key}' has shape {tuple(weights[key].shape)} in '{path}' but "
                f"{tuple(value.shape)} here; run the probe with the dataset, palette_size and "
                f"backbone settings the checkpoint was trained with.{hint}"
            )
    backbone.load_state_dict(weights, strict=False)
    saved = state.get("palette")
    if saved is not None and saved.shape == palette.shape:
        palette.copy_(saved)
