"""Callbacks the core adds to every run: throughput and peak memory for ``summary.json``,
the weight average behind ``trainer.ema_decay``, the guard that stops a run whose loss
is no longer finite, and the record of when the run last validated."""

from __future__ import annotations

import resource
import sys
import time
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import WeightAveraging

__all__ = [
    "ExponentialAverage",
    "FiniteLoss",
    "NonFiniteLoss",
    "ThroughputMonitor",
    "ValidationClock",
    "ema_decay_at",
    "peak_memory_mb",
]


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


def ema_decay_at(step: int, decay: float) -> float:
    """The average's decay at its ``step``-th update: warmed up as timm's ``ModelEmaV3``
    does, at most ``(1 + t) / (10 + t)``, so a run of a few hundred steps averages what it
    learnt rather than its random start (0.999 from the first step keeps ~37% of the
    initial weights after 1,000 steps)."""
    return min(decay, (1 + step) / (10 + step))


def _ema_update(decay: float) -> Any:
    """The multi-tensor update of the average with the warmed-up decay."""

    @torch.no_grad()
    def update(average: list[torch.Tensor], current: list[torch.Tensor], count: Any) -> None:
        d = ema_decay_at(int(count), decay)
        if torch.is_floating_point(average[0]) or torch.is_complex(average[0]):
            if any(a.dtype != c.dtype for a, c in zip(average, current, strict=True)):
                # bf16-true: the average was copied before the weights were cast to bf16
                # and stays fp32 (in bf16 a 0.001 step of the average would round away).
                current = [c.to(a.dtype) for a, c in zip(average, current, strict=True)]
            torch._foreach_lerp_(average, current, 1 - d)
        else:
            for a, c in zip(average, current, strict=True):
                a.copy_(a * d + c * (1 - d))

    return update


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
        # A plain function of the decay, not a bound method: the averaged model keeps it,
        # and a method would drag this callback (and the model it holds) into every copy.
        super().__init__(multi_avg_fn=_ema_update(decay))
        self.decay = decay

    def on_load_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        state = checkpoint.get("state_dict")
        if self._average_model is not None and isinstance(state, dict):
            for key, value in pl_module.state_dict().items():
                state.setdefault(key, value)
        super().on_load_checkpoint(trainer, pl_module, checkpoint)


class NonFiniteLoss(Exception):
    """Raised by :class:`FiniteLoss` to leave ``fit`` at once (no end-of-epoch validation
    or checkpoint of weights that are no longer finite)."""


class FiniteLoss(pl.Callback):
    """Stops the run at the step whose training loss is NaN or infinite.

    The step that produced it has already updated the weights, so they are not finite
    either: the run leaves ``fit`` there (raising :class:`NonFiniteLoss`), ``last.ckpt``
    keeps the last finite state (it is not rewritten), and the run's end skips what would
    read the weights (validation, the test, pictures, exports) and says what to change.
    """

    def __init__(self) -> None:
        self.step: int | None = None
        self.value: float | None = None

    @property
    def tripped(self) -> bool:
        return self.step is not None

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, *_: Any
    ) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if not isinstance(loss, torch.Tensor) or self.tripped:
            return
        if not bool(torch.isfinite(loss.detach()).all()):
            self.step, self.value = trainer.global_step, float(loss.detach().float().mean())
            raise NonFiniteLoss(f"loss {self.value} at step {self.step}")


class ValidationClock(pl.Callback):
    """The step of the run's last validation (sanity checks aside), so a run that stops
    between validations can validate once more at its end."""

    def __init__(self) -> None:
        self.step: int | None = None

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self.step = trainer.global_step
