"""``LtxTask``: the LightningModule base every task builds on.

It receives its backbone already built (from the backbone's own config and
the dataset's hand-off), builds the optimizer with decay / no-decay parameter
groups and the warm-up + decay schedule from their config models, counts what
throughput needs, and stores the run config in every checkpoint so
``ltx test --ckpt`` and ``ltx predict --ckpt`` need nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import nn

# TaskConfig lives in the torch-free configs module; re-exported here for task authors.
from ltx_core.configs import OptimizerConfig, SchedulerConfig, TaskConfig

__all__ = ["CHECKPOINT_KEY", "LtxTask", "TaskConfig", "lr_lambda", "parameter_groups"]

CHECKPOINT_KEY = "ltx"


def parameter_groups(
    model: nn.Module, weight_decay: float, no_decay: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Decay matrices; never decay biases, norm weights or 1-d parameters, nor named extras."""
    decay, rest = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim < 2 or any(s in name for s in no_decay):
            rest.append(p)
        else:
            decay.append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}]
    if rest:
        groups.append({"params": rest, "weight_decay": 0.0})
    return groups


def lr_lambda(cfg: SchedulerConfig, total_steps: int) -> Any:
    """The multiplier of the peak learning rate at each optimizer step."""
    total = max(1, int(total_steps))
    warmup = cfg.warmup_steps if cfg.warmup_steps is not None else int(cfg.warmup_fraction * total)
    warmup = min(warmup, total)
    floor = cfg.min_lr_ratio

    def factor(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        if cfg.name == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        if cfg.name == "linear":
            return floor + (1.0 - floor) * (1.0 - progress)
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


class LtxTask(pl.LightningModule):
    """Base task. Subclasses write the steps and may set ``monitor`` / ``monitor_mode``."""

    config_model: type[TaskConfig] = TaskConfig
    #: Metric that picks the best checkpoint.
    monitor: str = "val_loss"
    monitor_mode: str = "min"

    def __init__(
        self,
        config: TaskConfig,
        *,
        backbone: nn.Module,
        info: Mapping[str, Any] | None = None,
        optimizer: OptimizerConfig | None = None,
        scheduler: SchedulerConfig | None = None,
        tokenizer: Any = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.backbone = backbone
        self.info = dict(info or {})
        self.optimizer_config = optimizer or OptimizerConfig()
        self.scheduler_config = scheduler or SchedulerConfig()
        self.tokenizer = tokenizer
        #: The whole resolved run config, set by the core; saved in checkpoints.
        self.run_config: dict[str, Any] = {}

    # -- hooks for the core ----------------------------------------------
    @classmethod
    def backbone_info(cls, config: TaskConfig, info: Mapping[str, Any]) -> dict[str, Any]:
        """Extra hand-off the task asks of any backbone (e.g. which head it needs)."""
        return {}

    def batch_stats(self, batch: Any) -> tuple[int, int | None]:
        """``(samples, tokens)`` in a training batch, for throughput (tokens: None if n/a)."""
        first = batch
        while isinstance(first, (list, tuple)) and first:
            first = first[0]
        if isinstance(first, Mapping) and first:
            first = next(iter(first.values()))
        n = int(first.shape[0]) if isinstance(first, torch.Tensor) and first.ndim else 1
        return n, None

    def logs_this_step(self, progress_bar: bool = False) -> bool:
        """Whether a training-step ``self.log(..., on_step=True)`` would reach anyone.

        Loggers only write every ``log_every_n_steps``; in between, a logged value is
        read only by the progress bar (pass ``progress_bar=True`` for values shown
        there). Each ``self.log`` costs about a millisecond of Python, a few percent
        of a small model's step, so tasks skip the ones nobody reads.
        """
        trainer = self._trainer
        if trainer is None or not self.training:
            return True
        if progress_bar and trainer.progress_bar_callback is not None:
            return True
        every = int(getattr(trainer, "log_every_n_steps", 1))  # set by Trainer.__init__
        return (trainer.global_step + 1) % max(1, every) == 0

    def on_run_end(self, run_dir: Path) -> None:
        """Called once on rank 0 after fit and test (e.g. to write sample images)."""

    def predict_inputs(
        self, inputs: list[str], out_dir: Path, datamodule: Any = None, **options: Any
    ) -> list[Any]:
        """Task-specific inference for ``ltx predict``; returns printable (JSON-able) results.

        ``datamodule`` is built from the checkpoint's config but not set up: touch
        ``datamodule.splits`` only when the inputs are not enough (e.g. no inputs given).
        ``options`` come from ``ltx predict --set key=value``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not support 'ltx predict'")

    # -- optimisation ------------------------------------------------------
    def configure_optimizers(self) -> Any:
        cfg = self.optimizer_config
        groups = parameter_groups(self, cfg.weight_decay, cfg.no_decay)
        if cfg.name == "sgd":
            opt: torch.optim.Optimizer = torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum)
        else:
            cls = torch.optim.AdamW if cfg.name == "adamw" else torch.optim.Adam
            # Fused AdamW runs on CUDA and (torch >= 2.4) on CPU; it is several times
            # faster per step than the per-parameter loop on both.
            fused = {"fused": True} if self.device.type in ("cuda", "cpu") else {}
            opt = cls(groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, **fused)
        total = self.trainer.estimated_stepping_batches if self._trainer is not None else 1
        if not math.isfinite(total):
            total = 1
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(self.scheduler_config, int(total)))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    # -- checkpoints -------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[CHECKPOINT_KEY] = {"config": self.run_config, "info": self.info}
