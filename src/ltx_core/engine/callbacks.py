"""Callbacks the core adds to every run: throughput and peak memory for ``summary.json``,
and the weight average behind ``trainer.ema_decay``."""

from __future__ import annotations

import resource
import sys
import time
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import WeightAveraging
from torch.optim.swa_utils import get_ema_multi_avg_fn

__all__ = ["ExponentialAverage", "ThroughputMonitor", "peak_memory_mb"]


def peak_memory_mb(device: torch.device | None = None) -> tuple[float, str]:
    """Peak GPU memory allocated when on CUDA, else the process's peak resident set."""
    if device is not None and device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "cuda_allocated"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return (rss / 2**20 if sys.platform == "darwin" else rss / 1024), "host_rss"


class ThroughputMonitor(pl.Callback):
    """Samples (and tokens) per second of training, data loading included, validation not.

    Each batch is timed from the end of the one before it, so loading counts;
    time spent validating is taken out of that span. The first ``skip`` batches
    are left out: they pay for allocation and warm-up. Figures are global:
    per-process counts times the world size.
    """

    def __init__(self, skip: int = 2) -> None:
        self.skip = skip
        self.batches = 0
        self.samples = 0
        self.tokens = 0
        self.has_tokens = False
        self.elapsed = 0.0
        self._last_end: float | None = None
        self._val_start: float | None = None

    @staticmethod
    def _now(trainer: pl.Trainer) -> float:
        if trainer.strategy.root_device.type == "cuda":
            torch.cuda.synchronize(trainer.strategy.root_device)
        return time.perf_counter()

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._last_end is None and self.batches >= self.skip:
            self._last_end = self._now(trainer)

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        self.batches += 1
        now = self._now(trainer)
        if self._last_end is not None and self.batches > self.skip:
            self.elapsed += now - self._last_end
            stats = getattr(pl_module, "batch_stats", None)
            samples, tokens = stats(batch) if stats else (0, None)
            self.samples += samples
            if tokens is not None:
                self.has_tokens = True
                self.tokens += tokens
        self._last_end = now if self.batches >= self.skip else None

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._val_start = time.perf_counter()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._val_start is not None and self._last_end is not None:
            self._last_end += time.perf_counter() - self._val_start
        self._val_start = None

    def summary(self, world_size: int = 1) -> dict[str, Any]:
        out: dict[str, Any] = {
            "measured_batches": max(0, self.batches - self.skip),
            "measured_seconds": round(self.elapsed, 4),
        }
        if self.elapsed > 0:
            out["samples_per_s"] = self.samples * world_size / self.elapsed
            if self.has_tokens:
                out["tokens_per_s"] = self.tokens * world_size / self.elapsed
        return out


class ExponentialAverage(WeightAveraging):
    """An exponential moving average of the weights, updated after every optimizer step.

    Lightning's ``WeightAveraging`` with the multi-tensor update (one foreach lerp per
    step, rather than ``EMAWeightAveraging``'s call per parameter). It swaps the average
    in for validation and saves it as the checkpoint's ``state_dict`` (the raw weights
    ride along for ``--resume``), so test and predict see the average.

    A task may save only part of its weights (a PEFT run keeps the adapter and the head;
    the base model comes back from its reference when the task is built). On resume the
    averaged copy needs every weight: those the checkpoint leaves out are frozen, equal
    in the average and the model, so they are taken from the model as restored.
    """

    def __init__(self, decay: float) -> None:
        super().__init__(multi_avg_fn=get_ema_multi_avg_fn(decay))
        self.decay = decay

    def on_load_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        state = checkpoint.get("state_dict")
        if self._average_model is not None and isinstance(state, dict):
            for key, value in pl_module.state_dict().items():
                state.setdefault(key, value)
        super().on_load_checkpoint(trainer, pl_module, checkpoint)
