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
from typing import Any, TypeVar

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import WeightAveraging

from ltx_core.config.resolve import ResolvedConfig
from ltx_core.engine.build import build_datamodule, build_task, build_tokenizer, dataset_handoff
from ltx_core.engine.callbacks import (
    FiniteLoss,
    NonFiniteLoss,
    ThroughputMonitor,
    ValidationClock,
    peak_memory_mb,
)
from ltx_core.engine.environment import check_accelerator, quiet_lightning
from ltx_core.engine.flops import FlopsCounter, mfu_fields
from ltx_core.engine.resume import check_resume, merge_metrics
from ltx_core.engine.strategies import check_strategy
from ltx_core.engine.summary import environment_name, floats, package_versions, stopped_by
from ltx_core.engine.trainer import build_trainer, compile_backbone
from ltx_core.errors import LtxError, RunInterrupted
from ltx_core.runs.layout import ARTIFACTS, prepare_run_dir, write_json

__all__ = ["train", "write_artifacts"]

log = logging.getLogger(__name__)
T = TypeVar("T")


def write_artifacts(task: Any, run_dir: Path) -> str | None:
    """The task's end-of-run files, under ``artifacts/`` (the core owns the folder).

    A task that fails here has trained and tested already: the failure is one sentence
    (returned, and logged) naming the plugin, and the run still ends with its numbers.
    """
    artifacts = run_dir / ARTIFACTS
    artifacts.mkdir(exist_ok=True)
    problem = None
    try:
        task.write_artifacts(artifacts)
    except Exception as exc:  # the plugin's code, after the run's numbers are safe
        who = f"{type(task).__module__.split('.')[0]}.{type(task).__name__}"
        problem = (
            f"{who}.write_artifacts failed ({type(exc).__name__}: {exc}); the run's metrics "
            "and checkpoints are complete, its artifacts/ may not be"
        )
        log.warning("%s.", problem)
    if not any(artifacts.iterdir()):
        artifacts.rmdir()
    return problem


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
    fit_started = time.perf_counter()
    interrupted = _fit(trainer, task, datamodule, last if resume else None)
    fit_time = time.perf_counter() - fit_started
    guard = _callback(trainer, FiniteLoss)
    finished = not interrupted and not guard.tripped  # the weights are whole and finite
    if finished:
        _validate_at_end(trainer, task, datamodule, cfg.trainer.limit_val_batches)
    metrics = floats(trainer.callback_metrics)
    how = "signal" if interrupted else "non_finite_loss" if guard.tripped else stopped_by(trainer)
    tested_with = None
    if datamodule.has_test and cfg.trainer.limit_test_batches != 0 and finished:
        tested_with, test_metrics = _test(trainer, task, datamodule, last)
        metrics.update(test_metrics)

    if trainer.is_global_zero:
        for lg in trainer.loggers:
            lg.save()
        if earlier.exists():
            merge_metrics(earlier, metrics_csv)
        summary = _summary(resolved, trainer, task, metrics, how, last, started)
        # Training alone (the wall time adds building, the final validation and the test).
        summary["fit_time_s"] = round(fit_time, 3)
        summary["throughput"].update(
            mfu_fields(flops, summary["throughput"], trainer.strategy.root_device,
                       summary["precision"], trainer.world_size)
        )  # fmt: skip
        summary["checkpoints"]["test_metrics_from"] = tested_with
        if resumed_from is not None:
            summary["resumed_from_step"] = resumed_from
        # Written before the artifacts: nothing that fails after training loses its numbers.
        write_json(run_dir / "summary.json", summary)
        if finished:  # a preempted job has seconds left; non-finite weights draw nothing
            problem = write_artifacts(task, run_dir)
            if problem:
                summary["artifacts_error"] = problem
                write_json(run_dir / "summary.json", summary)
        log.info("Run written to %s", run_dir)
    if guard.tripped:
        raise LtxError(
            f"The training loss became {guard.value} at step {guard.step}, so the run stopped "
            f"there; lower optimizer.lr (it is {cfg.optimizer.lr:g}), set "
            "trainer.gradient_clip_val, or train in 32-true precision "
            f"({run_dir / 'summary.json'} has the numbers"
            + (", checkpoints/last.ckpt the last finite state)." if last.exists() else ").")
        )
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
    except NonFiniteLoss:
        pass  # FiniteLoss recorded where; the run's end says it
    return False


def _callback(trainer: pl.Trainer, kind: type[T]) -> T:
    """The run's callback of ``kind`` (build_trainer adds one of each)."""
    return next(cb for cb in trainer.callbacks if isinstance(cb, kind))  # type: ignore[attr-defined]


def _validate_at_end(trainer: pl.Trainer, task: Any, datamodule: Any, limit: Any) -> None:
    """Validate once more when the run stopped between validations (``--max-steps``,
    ``max_time``): its ``val_*`` metrics then describe the weights it ends with, and a run
    shorter than an epoch has them at all."""
    clock = _callback(trainer, ValidationClock)
    if limit == 0 or trainer.global_step == 0 or clock.step == trainer.global_step:
        return
    if "validation" not in datamodule.splits:
        return
    trainer.validate(task, datamodule=datamodule, verbose=False)


def _test(
    trainer: pl.Trainer, task: Any, datamodule: Any, last: Path
) -> tuple[str | None, dict[str, float]]:
    """The test metrics of the best checkpoint (``last.ckpt`` when none was kept), and the
    checkpoint they come from."""
    ckpt_cb = trainer.checkpoint_callback
    best = getattr(ckpt_cb, "best_model_path", "") if ckpt_cb else ""
    # A checkpoint's state_dict holds the averaged weights when trainer.ema_decay is
    # set, and that is what `ltx test --ckpt` scores; but loading it in a trainer that
    # still has the averaging callback puts the raw training weights back (the
    # callback's resume path). Testing is not training: leave the callback out.
    kept = [cb for cb in trainer.callbacks if not isinstance(cb, WeightAveraging)]  # type: ignore[attr-defined]
    trainer.callbacks[:] = kept  # type: ignore[attr-defined]
    chosen = best or (str(last) if last.exists() else None)
    results = trainer.test(
        task, datamodule=datamodule, ckpt_path=chosen, verbose=False, weights_only=True
    )
    out: dict[str, float] = {}
    for result in results:
        out.update(floats(result))
    return (str(Path(chosen).resolve()) if chosen else None), out


def _summary(
    resolved: ResolvedConfig,
    trainer: pl.Trainer,
    task: Any,
    metrics: dict[str, float],
    how: str,
    last: Path,
    started: float,
) -> dict[str, Any]:
    # The strategy's device, not the task's: Lightning moves the model back to the CPU when
    # fitting ends, and the peak is the GPU's.
    peak, kind = peak_memory_mb(trainer.strategy.root_device)
    ckpt_cb = trainer.checkpoint_callback
    throughput = _callback(trainer, ThroughputMonitor)
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
