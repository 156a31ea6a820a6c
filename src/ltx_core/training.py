"""Training glue: a validated run config becomes a Lightning Trainer and a run directory.

Fit, then test when the dataset has a test split; write ``config.yaml``,
``metrics.csv`` (CSV logger), ``checkpoints/`` and ``summary.json``.
"""

from __future__ import annotations

import logging
import math
import platform
import time
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import LearningRateMonitor, ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger, Logger, TensorBoardLogger

from ltx_core.build import build_datamodule, build_task, build_tokenizer
from ltx_core.callbacks import ThroughputMonitor, peak_memory_mb
from ltx_core.configs import TrainerConfig
from ltx_core.errors import LtxError
from ltx_core.resolve import ResolvedConfig
from ltx_core.rundir import prepare_run_dir, write_json

__all__ = ["build_trainer", "check_accelerator", "package_versions", "train"]

log = logging.getLogger(__name__)


def check_accelerator(cfg: TrainerConfig) -> None:
    """Refuse a GPU run on a machine without one, with a sentence rather than a traceback."""
    if cfg.accelerator in ("gpu", "cuda"):
        if not torch.cuda.is_available():
            raise LtxError(
                "A GPU was asked for (--gpus or --accelerator gpu) but this machine has no "
                "CUDA GPU; use --accelerator cpu."
            )
        count = torch.cuda.device_count()
        if isinstance(cfg.devices, int) and cfg.devices > count:
            raise LtxError(f"{cfg.devices} GPUs were asked for but this machine has {count}.")


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
    best = ModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        filename="best-{epoch}-{step}",
        monitor=monitor,
        mode=mode,
        save_top_k=cfg.save_top_k,
        auto_insert_metric_name=False,
    )
    # A checkpoint of its own for the latest state: Lightning's save_last=True rewrites
    # last.ckpt only when a best checkpoint is saved, so it would lag behind training
    # (and --resume would go back to the best epoch). With no monitor and one kept,
    # this one is rewritten at every epoch's end and when training stops.
    last = ModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        filename="last",
        monitor=None,
        save_top_k=1,
        enable_version_counter=False,
    )
    # The best one first: trainer.checkpoint_callback is the first in the list.
    callbacks = [best, last, LearningRateMonitor(logging_interval="step"), *extra_callbacks]
    if cfg.ema_decay is not None:
        try:
            from pytorch_lightning.callbacks import WeightAveraging
        except ImportError:
            raise LtxError(
                "trainer.ema_decay needs pytorch-lightning 2.6 or later; upgrade it or unset "
                "trainer.ema_decay."
            ) from None
        from torch.optim.swa_utils import get_ema_multi_avg_fn

        # An EMA updated after every step, with the multi-tensor update (one foreach lerp)
        # rather than EMAWeightAveraging's call per parameter. The callback swaps the
        # average in for validation and saves it as the checkpoint's state_dict (the raw
        # weights ride along for --resume), so test and predict see the average.
        callbacks.append(WeightAveraging(multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay)))
    accelerator = "gpu" if cfg.accelerator == "cuda" else cfg.accelerator
    return pl.Trainer(
        accelerator=accelerator,
        devices=cfg.devices,
        strategy=cfg.strategy,
        num_nodes=cfg.num_nodes,
        precision=cfg.precision,
        max_epochs=cfg.max_epochs,
        max_steps=cfg.max_steps,
        gradient_clip_val=cfg.gradient_clip_val,
        accumulate_grad_batches=cfg.accumulate_grad_batches,
        log_every_n_steps=cfg.log_every_n_steps,
        val_check_interval=cfg.val_check_interval,
        check_val_every_n_epoch=cfg.check_val_every_n_epoch,
        limit_train_batches=cfg.limit_train_batches,
        limit_val_batches=cfg.limit_val_batches,
        limit_test_batches=cfg.limit_test_batches,
        num_sanity_val_steps=cfg.num_sanity_val_steps,
        deterministic=cfg.deterministic,
        enable_progress_bar=cfg.enable_progress_bar,
        default_root_dir=run_dir,
        logger=loggers,
        callbacks=callbacks,
    )


def package_versions(resolved: ResolvedConfig | None = None) -> dict[str, str]:
    """Versions of what the run used: Python, torch, Lightning, ltx and the plugins."""
    names = ["ltx-core", "torch", "pytorch-lightning", "pydantic", "transformers", "torchvision"]
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    for spec in resolved.specs.values() if resolved else ():
        if spec is not None and spec.distribution:
            out.setdefault(spec.distribution, spec.version)
    return out


def _floats(metrics: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in metrics.items():
        try:
            f = float(value)
        except (TypeError, ValueError):
            continue
        if not math.isnan(f):
            out[key] = f
    return out


def train(resolved: ResolvedConfig, *, resume: bool = False, overwrite: bool = False) -> Path:
    """Fit (and test) a run; return its directory. Raises LtxError for user mistakes."""
    cfg: Any = resolved.config
    task_name = resolved.specs["task"].name  # type: ignore[union-attr]
    check_accelerator(cfg.trainer)
    run_dir = prepare_run_dir(cfg.output_dir, task_name, resume=resume, overwrite=overwrite)
    started = time.perf_counter()
    pl.seed_everything(cfg.seed, workers=True, verbose=False)

    tokenizer = build_tokenizer(resolved)
    datamodule = build_datamodule(resolved, tokenizer)
    datamodule.prepare_data()
    datamodule.setup("fit")
    info = datamodule.model_data_kwargs()
    task = build_task(resolved, info, tokenizer)

    throughput = ThroughputMonitor()
    trainer = build_trainer(
        cfg.trainer,
        run_dir,
        monitor=task.monitor,
        mode=task.monitor_mode,
        extra_callbacks=[throughput],
    )
    if trainer.is_global_zero:
        (run_dir / "config.yaml").write_text(resolved.to_yaml(), encoding="utf-8")
    last = run_dir / "checkpoints" / "last.ckpt"
    trainer.fit(task, datamodule=datamodule, ckpt_path=str(last) if resume else None)
    metrics = _floats(trainer.callback_metrics)

    if datamodule.has_test and cfg.trainer.limit_test_batches != 0:
        ckpt_cb = trainer.checkpoint_callback
        best = getattr(ckpt_cb, "best_model_path", "") if ckpt_cb else ""
        results = trainer.test(task, datamodule=datamodule, ckpt_path=best or None, verbose=False)
        for result in results:
            metrics.update(_floats(result))

    if trainer.is_global_zero:
        task.on_run_end(run_dir)
        peak, kind = peak_memory_mb(task.device)
        ckpt_cb = trainer.checkpoint_callback
        summary = {
            "task": task_name,
            "metrics": dict(sorted(metrics.items())),
            "throughput": throughput.summary(trainer.world_size),
            "wall_time_s": round(time.perf_counter() - started, 3),
            "peak_memory_mb": round(peak, 1),
            "peak_memory_kind": kind,
            "global_step": trainer.global_step,
            "epochs": trainer.current_epoch,
            "world_size": trainer.world_size,
            "checkpoints": {
                "last": str(last.resolve()) if last.exists() else None,
                "best": getattr(ckpt_cb, "best_model_path", None) or None,
            },
            "versions": package_versions(resolved),
        }
        write_json(run_dir / "summary.json", summary)
        log.info("Run written to %s", run_dir)
    return run_dir
