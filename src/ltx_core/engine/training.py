"""``train``: a validated run config becomes a run directory.

Build the pieces (tokenizer, dataset, hand-off, backbone, task), fit with the run's
Trainer, test on the best checkpoint when the dataset has a test split, then write
``summary.json`` and the task's artifacts. ``config.yaml`` is written before training
starts and ``metrics.csv`` / ``checkpoints/`` while it runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import WeightAveraging

from ltx_core.config.resolve import ResolvedConfig
from ltx_core.engine.build import build_datamodule, build_task, build_tokenizer, dataset_handoff
from ltx_core.engine.callbacks import ThroughputMonitor, peak_memory_mb
from ltx_core.engine.environment import check_accelerator, quiet_lightning
from ltx_core.engine.flops import FlopsCounter, mfu_fields
from ltx_core.engine.resume import check_resume, merge_metrics
from ltx_core.engine.strategies import check_strategy
from ltx_core.engine.summary import environment_name, floats, package_versions, stopped_by
from ltx_core.engine.trainer import build_trainer, compile_backbone
from ltx_core.errors import RunInterrupted
from ltx_core.runs.layout import ARTIFACTS, prepare_run_dir, write_json

__all__ = ["train", "write_artifacts"]

log = logging.getLogger(__name__)


def write_artifacts(task: Any, run_dir: Path) -> None:
    """The task's end-of-run files, under ``artifacts/`` (the core owns the folder)."""
    artifacts = run_dir / ARTIFACTS
    artifacts.mkdir(exist_ok=True)
    task.write_artifacts(artifacts)
    if not any(artifacts.iterdir()):
        artifacts.rmdir()


def train(
    resolved: ResolvedConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    verbose: bool = False,
    allow_changes: bool = False,
    extra_callbacks: Sequence[Any] = (),
) -> Path:
    """Fit (and test) a run; return its directory. Raises LtxError for user mistakes.

    ``extra_callbacks`` join the run's own (``ltx sweep`` passes its pruning callback)."""
    cfg = resolved.config
    check_accelerator(cfg.trainer.accelerator, cfg.trainer.devices)
    # Here, not in check_accelerator: a sharded run's checkpoint tests on one device.
    check_strategy(cfg.trainer.strategy, torch.cuda.is_available())
    quiet_lightning(verbose)
    run_dir = prepare_run_dir(
        cfg.output_dir, resolved.task_spec.name, resume=resume, overwrite=overwrite
    )
    started = time.perf_counter()
    pl.seed_everything(cfg.seed, workers=True, verbose=False)

    tokenizer = build_tokenizer(resolved)
    datamodule = build_datamodule(resolved, tokenizer)
    check_run = getattr(datamodule, "check_trainer", None)
    if callable(check_run):  # a dataset's own demand on the run (a stream: --max-steps)
        check_run(cfg.trainer)
    datamodule.prepare_data()
    datamodule.setup("fit")
    handoff = dataset_handoff(datamodule, resolved)
    last = run_dir / "checkpoints" / "last.ckpt"
    resumed_from = check_resume(last, handoff, resolved, allow_changes) if resume else None
    task = build_task(resolved, handoff, tokenizer)
    compile_backbone(task, cfg.trainer.compile)

    throughput, flops = ThroughputMonitor(), FlopsCounter()
    trainer = build_trainer(
        cfg.trainer,
        run_dir,
        monitor=task.monitor,
        mode=task.monitor_mode,
        extra_callbacks=[throughput, flops, *extra_callbacks],
    )
    if trainer.is_global_zero:
        (run_dir / "config.yaml").write_text(resolved.to_yaml(), encoding="utf-8")
    metrics_csv, earlier = run_dir / "metrics.csv", run_dir / "metrics.before-resume.csv"
    if resume and trainer.is_global_zero and metrics_csv.exists():
        metrics_csv.replace(earlier)
    interrupted = _fit(trainer, task, datamodule, last if resume else None)
    metrics = floats(trainer.callback_metrics)
    how = "signal" if interrupted else stopped_by(trainer)
    if datamodule.has_test and cfg.trainer.limit_test_batches != 0 and not interrupted:
        metrics.update(_test(trainer, task, datamodule, last))

    if trainer.is_global_zero:
        for lg in trainer.loggers:
            lg.save()
        if earlier.exists():
            merge_metrics(earlier, metrics_csv)
        if not interrupted:  # a preempted job has seconds left: pictures can wait
            write_artifacts(task, run_dir)
        summary = _summary(resolved, trainer, task, metrics, how, last, started)
        summary["throughput"].update(
            mfu_fields(flops, summary["throughput"], task.device, summary["precision"],
                       trainer.world_size)
        )  # fmt: skip
        if resumed_from is not None:
            summary["resumed_from_step"] = resumed_from
        write_json(run_dir / "summary.json", summary)
        log.info("Run written to %s", run_dir)
    if interrupted:
        raise RunInterrupted(
            f"Training was interrupted at step {trainer.global_step}; checkpoints/last.ckpt "
            f"holds it. Continue with: ltx train --config {run_dir / 'config.yaml'} "
            f"--output-dir {run_dir} --resume"
        )
    return run_dir


def _fit(trainer: pl.Trainer, task: Any, datamodule: Any, resume_from: Path | None) -> bool:
    """Fit; ``True`` when Ctrl-C or SIGTERM stopped it (after ``last.ckpt`` was saved)."""
    try:
        trainer.fit(
            task,
            datamodule=datamodule,
            ckpt_path=str(resume_from) if resume_from else None,
            weights_only=True,  # ltx checkpoints hold tensors and plain data only
        )
    except (SystemExit, KeyboardInterrupt):
        # Lightning turns Ctrl-C into SystemExit(1) and SIGTERM into SIGTERMException,
        # after LastCheckpoint saved; finish the run directory, then say how to go on.
        if not (trainer.interrupted or trainer.received_sigterm):
            raise
        return True
    return False


def _test(trainer: pl.Trainer, task: Any, datamodule: Any, last: Path) -> dict[str, float]:
    """The test metrics of the best checkpoint (``last.ckpt`` when none was kept)."""
    ckpt_cb = trainer.checkpoint_callback
    best = getattr(ckpt_cb, "best_model_path", "") if ckpt_cb else ""
    # A checkpoint's state_dict holds the averaged weights when trainer.ema_decay is
    # set, and that is what `ltx test --ckpt` scores; but loading it in a trainer that
    # still has the averaging callback puts the raw training weights back (the
    # callback's resume path). Testing is not training: leave the callback out.
    kept = [cb for cb in trainer.callbacks if not isinstance(cb, WeightAveraging)]  # type: ignore[attr-defined]
    trainer.callbacks[:] = kept  # type: ignore[attr-defined]
    results = trainer.test(
        task,
        datamodule=datamodule,
        ckpt_path=best or (str(last) if last.exists() else None),
        verbose=False,
        weights_only=True,
    )
    out: dict[str, float] = {}
    for result in results:
        out.update(floats(result))
    return out


def _summary(
    resolved: ResolvedConfig,
    trainer: pl.Trainer,
    task: Any,
    metrics: dict[str, float],
    how: str,
    last: Path,
    started: float,
) -> dict[str, Any]:
    peak, kind = peak_memory_mb(task.device)
    ckpt_cb = trainer.checkpoint_callback
    throughput = next(cb for cb in trainer.callbacks if isinstance(cb, ThroughputMonitor))  # type: ignore[attr-defined]
    return {
        "task": resolved.task_spec.name,
        "metrics": dict(sorted(metrics.items())),
        "throughput": throughput.summary(trainer.world_size),
        "precision": str(trainer.precision),
        "wall_time_s": round(time.perf_counter() - started, 3),
        "peak_memory_mb": round(peak, 1),
        "peak_memory_kind": kind,
        "global_step": trainer.global_step,
        "epochs": trainer.current_epoch,
        "stopped_by": how,
        "world_size": trainer.world_size,
        # How the processes met (scaling out): Lightning's own names for what it chose.
        "num_nodes": trainer.num_nodes,
        "strategy": type(trainer.strategy).__name__,
        "cluster_environment": environment_name(trainer),
        "trainable_params": sum(p.numel() for p in task.parameters() if p.requires_grad),
        "total_params": sum(p.numel() for p in task.parameters()),
        "checkpoints": {
            "last": str(last.resolve()) if last.exists() else None,
            "best": getattr(ckpt_cb, "best_model_path", None) or None,
        },
        "versions": package_versions(resolved),
    }
