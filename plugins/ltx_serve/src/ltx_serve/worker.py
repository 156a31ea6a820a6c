"""What a LitServe model worker does first, for every API of ``ltx serve``: load the
checkpoint on its device."""

from __future__ import annotations

import signal
from typing import Any

from ltx_core.errors import LtxError

__all__ = ["load_on_device"]


def load_on_device(ckpt: str, device: str, precision: str | None) -> tuple[Any, str | None]:
    """``(predictor, None)`` of a model worker, or ``(None, the sentence)`` when the
    checkpoint cannot be loaded (the main process reads the same checkpoint and stops the
    server with that sentence; failing here would only add LitServe's traceback to it)."""
    from ltx_core.inference.predictor import Predictor

    # Ctrl-C reaches the whole process group; the main process stops this worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    kind, _, index = device.partition(":")
    accelerator = {"cuda": "gpu"}.get(kind, kind)
    devices: Any = [int(index)] if index else 1
    try:
        predictor = Predictor.from_checkpoint(
            ckpt, accelerator=accelerator, devices=devices, precision=precision
        )
    except LtxError as exc:
        return None, str(exc)
    return predictor, None
