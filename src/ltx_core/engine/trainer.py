"""The Lightning Trainer of a run: loggers (the CSV logger behind ``metrics.csv`` always,
TensorBoard and those of ``trainer.loggers``), ltx's checkpoint callbacks, the callbacks
of ``trainer.callbacks`` (``{class_path, init_args}``), and every other field of the
``trainer`` section passed to ``Trainer`` as it is."""

from __future__ import annotations

import importlib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import LearningRateMonitor, ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger, Logger, TensorBoardLogger
from pytorch_lightning.utilities.exceptions import MisconfigurationException

from ltx_core.config.models import ClassSpec, TrainerConfig
from ltx_core.engine.callbacks import ExponentialAverage, FiniteLoss, ValidationClock
from ltx_core.engine.checkpoints import LastCheckpoint
from ltx_core.engine.precision import resolve_precision
from ltx_core.engine.progress import progress_bar
from ltx_core.engine.resumable import ResumePosition
from ltx_core.engine.strategies import build_strategy
from ltx_core.errors import LtxError

__all__ = ["build_trainer", "compile_backbone", "instantiate"]


def _tensorboard_available() -> bool:
    try:
        metadata.version("tensorboard")
    except metadata.PackageNotFoundError:
        try:
            metadata.version("tensorboardX")
        except metadata.PackageNotFoundError:
            return False
    return True


def build_trainer(
    cfg: TrainerConfig, run_dir: Path, *, monitor: str, mode: str, extra_callbacks: list[Any]
) -> pl.Trainer:
    """The Lightning Trainer for a run: loggers, checkpointing and the trainer flags."""
    loggers: list[Logger] = [CSVLogger(run_dir, name="", version="")]
    if cfg.tensorboard and _tensorboard_available():
        loggers.append(
            TensorBoardLogger(run_dir, name="tensorboard", version="", default_hp_metric=False)
        )
    # Saved after validation only, where the monitored metric exists: a run that ends
    # before validating keeps no "best" (its test uses last.ckpt) and gets no warning.
    best = ModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        filename="best-{epoch}-{step}",
        monitor=monitor,
        mode=mode,
        save_top_k=cfg.save_top_k,
        auto_insert_metric_name=False,
        save_on_train_epoch_end=False,
    )
    # last.ckpt has a callback of its own: Lightning's save_last=True rewrites it only
    # when a best checkpoint is saved, so it would lag behind training.
    guard = FiniteLoss()
    last = LastCheckpoint(
        run_dir / "checkpoints" / "last.ckpt",
        every_n_steps=cfg.checkpoint_every_n_steps,
        every_minutes=cfg.checkpoint_every_minutes,
        guard=guard,
    )
    # The best one first: trainer.checkpoint_callback is the first ModelCheckpoint.
    # ResumePosition before LastCheckpoint: a step checkpoint must count its own batch.
    # FiniteLoss before LastCheckpoint: a step with a non-finite loss is never saved.
    callbacks = [
        guard,
        best,
        ResumePosition(),
        last,
        ValidationClock(),
        LearningRateMonitor(logging_interval="step"),
        *extra_callbacks,
    ]
    if cfg.enable_progress_bar:
        callbacks.append(progress_bar())
    if cfg.ema_decay is not None:
        callbacks.append(ExponentialAverage(cfg.ema_decay))
    callbacks += [instantiate(c, "callback") for c in cfg.callbacks]
    loggers += [instantiate(c, "logger") for c in cfg.loggers]
    accelerator = "gpu" if cfg.accelerator == "cuda" else cfg.accelerator
    try:
        return _trainer(cfg, accelerator, run_dir, loggers, callbacks)
    except (TypeError, ValueError, MisconfigurationException) as exc:
        # Lightning's own checks of its arguments (a bad type or value of one of them).
        raise LtxError(f"The trainer section was refused by Lightning: {exc}") from None


def _trainer(
    cfg: TrainerConfig,
    accelerator: str,
    run_dir: Path,
    loggers: list[Logger],
    callbacks: list[Any],
) -> pl.Trainer:
    # Every field but ltx's own settings is a Trainer argument (the extras are checked
    # against its signature), so nothing here lists Lightning's arguments by hand.
    args = cfg.model_dump(exclude=set(TrainerConfig.LTX_SETTINGS))
    args["accelerator"] = accelerator
    args["precision"] = resolve_precision(cfg.precision, accelerator)
    args["strategy"] = build_strategy(cfg.strategy)  # a name, or a class path with options
    if cfg.max_steps > 0:
        # A run shorter than the logging interval would log no training metric at all.
        args["log_every_n_steps"] = min(cfg.log_every_n_steps, cfg.max_steps)
    return pl.Trainer(**args, default_root_dir=run_dir, logger=loggers, callbacks=callbacks)


def compile_backbone(task: Any, setting: Any) -> None:
    """``trainer.compile``: compile the backbone in place (``nn.Module.compile``), so its
    weights keep their names in checkpoints and the FLOP counter still sees every op."""
    if setting is False or setting is None:
        return
    options = {} if setting is True else setting.model_dump()
    task.backbone.compile(**options)


#: Where short class names in trainer.callbacks / trainer.loggers are looked up.
_SHORT = {"callback": "pytorch_lightning.callbacks", "logger": "pytorch_lightning.loggers"}


def instantiate(spec: ClassSpec, kind: str) -> Any:
    """A callback or logger from ``{class_path, init_args}``; mistakes are one sentence."""
    path = spec.class_path
    module, _, name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module or _SHORT[kind]), name)
    except (ImportError, AttributeError) as exc:
        missing = getattr(exc, "name", None)
        why = f"; install '{missing}'" if isinstance(exc, ModuleNotFoundError) and missing else ""
        raise LtxError(
            f"trainer.{kind}s: cannot import the {kind} '{path}'{why} (short names are "
            f"Lightning's own, e.g. {'EarlyStopping' if kind == 'callback' else 'CSVLogger'})."
        ) from None
    try:
        return cls(**spec.init_args)
    except Exception as exc:  # the class's own checks of its arguments
        raise LtxError(f"trainer.{kind}s: {path}({spec.init_args}) failed: {exc}") from None
