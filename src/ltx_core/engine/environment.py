"""What every process that runs a model checks and sets first: that the devices asked for
exist, and Lightning's start-up chatter kept off the screen. Training, testing,
predicting and serving all call these (one accelerator check for all of them)."""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

from ltx_core.errors import LtxError

__all__ = ["check_accelerator", "quiet_lightning"]


def check_accelerator(accelerator: str | None, devices: Any = 1) -> None:
    """Refuse a GPU run on a machine without one (or with fewer GPUs than asked for),
    with a sentence rather than a traceback deep inside Lightning."""
    if accelerator not in ("gpu", "cuda"):
        return
    import torch

    if not torch.cuda.is_available():
        raise LtxError(
            "A GPU was asked for (--gpus or --accelerator gpu) but this machine has no "
            "CUDA GPU; use --accelerator cpu."
        )
    count = torch.cuda.device_count()
    wanted = len(devices) if isinstance(devices, (list, tuple)) else devices
    if isinstance(wanted, str) and wanted.isdigit():
        wanted = int(wanted)
    if isinstance(wanted, int) and wanted > count:
        raise LtxError(f"{wanted} GPUs were asked for but this machine has {count}.")


def quiet_lightning(verbose: bool = False) -> None:
    """Keep Lightning's start-up banner ("GPU available: ...") and advertising tips off the
    screen unless asked for (``--verbose`` / ``LTX_VERBOSE=1``); warnings still show."""
    verbose = verbose or os.environ.get("LTX_VERBOSE", "").strip() not in ("", "0")
    level = logging.INFO if verbose else logging.WARNING
    for name in ("pytorch_lightning.utilities.rank_zero", "lightning_fabric.utilities.rank_zero"):
        logging.getLogger(name).setLevel(level)
    # The run directory is ltx's and holds config.yaml before the CSV logger starts: its
    # "exists and is not empty" warning would greet every new run.
    warnings.filterwarnings(
        "ignore", message=r"Experiment logs directory .* exists and is not empty", append=False
    )
    # Lightning 2.6 on torch 2.14 warns about its own use of torch's pytree API on every
    # run; nothing a user can act on.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
    # A run's own test leaves the weight-averaging callback out on purpose (the
    # checkpoint already holds the average; see engine/training.py).
    warnings.filterwarnings("ignore", message=r"Be aware that when using `ckpt_path`, callbacks")
    # ltx lowers log_every_n_steps for short runs itself (see build_trainer).
    warnings.filterwarnings("ignore", message=r"The number of training batches .* is smaller")
