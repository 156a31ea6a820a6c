"""Training glue: a validated run config becomes a Lightning Trainer and a run directory.

Fit, then test when the dataset has a test split; write ``config.yaml``,
``metrics.csv`` (CSV logger), ``checkpoints/`` and ``summary.json``.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import platform
import re
import time
import warnings
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import LearningRateMonitor, ModelCheckpoint, WeightAveraging
from pytorch_lightning.loggers import CSVLogger, Logger, TensorBoardLogger
from pytorch_lightning.utilities.exceptions import MisconfigurationException

from ltx_core.config.models import ClassSpec, TrainerConfig
from ltx_core.config.resolve import ResolvedConfig
from ltx_core.engine.build import (
    build_datamodule,
    build_task,
    build_tokenizer,
    dataset_handoff,
    overrides,
)
from ltx_core.engine.callbacks import ExponentialAverage, ThroughputMonitor, peak_memory_mb
from ltx_core.engine.checkpoints import LastCheckpoint, read_checkpoint, restore_of
from ltx_core.engine.flops import FlopsCounter, mfu_fields
from ltx_core.engine.precision import resolve_precision
from ltx_core.engine.progress import progress_bar
from ltx_core.engine.resumable import ResumePosition
from ltx_core.engine.strategies import build_strategy, check_strategy
from ltx_core.errors import LtxError, RunInterrupted
from ltx_core.handoff import HandOff, describe_handoff_difference
from ltx_core.runs.layout import ARTIFACTS, prepare_run_dir, write_json

__all__ = [
    "build_trainer",
    "check_accelerator",
    "package_versions",
    "quiet_lightning",
    "train",
    "write_artifacts",
]

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
    # ltx lowers log_every_n_steps for short runs itself (see build_trainer).
    warnings.filterwarnings("ignore", message=r"The number of training batches .* is smaller")


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
    last = LastCheckpoint(
        run_dir / "checkpoints" / "last.ckpt",
        every_n_steps=cfg.checkpoint_every_n_steps,
        every_minutes=cfg.checkpoint_every_minutes,
    )
    # The best one first: trainer.checkpoint_callback is the first ModelCheckpoint.
    # ResumePosition before LastCheckpoint: a step checkpoint must count its own batch.
    callbacks = [
        best,
        ResumePosition(),
        last,
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


#: What every run uses, whatever its plugins: ltx-core and its training stack.
CORE_PACKAGES = ("ltx-core", "torch", "pytorch-lightning", "pydantic")


def _requirement_names(distribution: str) -> list[str]:
    """The names of a distribution's unconditional requirements (no extras, no markers)."""
    try:
        requires = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return []
    names = []
    for req in requires:
        if ";" in req:  # extras and platform markers: not what the run necessarily used
            continue
        names.append(re.split(r"[\s\[<>=!~(]", req.strip(), maxsplit=1)[0])
    return names


def package_versions(resolved: ResolvedConfig | None = None) -> dict[str, str]:
    """Versions of what the run used: Python, ltx-core and its training stack, and each
    plugin that built a component with the packages that plugin requires."""
    out = {"python": platform.python_version()}
    names: list[str] = list(CORE_PACKAGES)
    for spec in resolved.specs.values() if resolved else ():
        if spec is not None and spec.distribution:
            names += [spec.distribution, *_requirement_names(spec.distribution)]
    for name in dict.fromkeys(names):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
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


def _environment_name(trainer: pl.Trainer) -> str | None:
    """The cluster environment Lightning detected (SLURMEnvironment, TorchElasticEnvironment,
    LightningEnvironment, ...); None for a single-device run."""
    env = getattr(trainer.strategy, "cluster_environment", None)
    return type(env).__name__ if env is not None else None


def _stopped_by(trainer: pl.Trainer) -> str:
    if trainer.interrupted:
        return "signal"
    if trainer.max_steps is not None and 0 < trainer.max_steps <= trainer.global_step:
        return "max_steps"
    if trainer.max_epochs is not None and 0 < trainer.max_epochs <= trainer.current_epoch:
        return "max_epochs"
    return "early_stopping" if trainer.should_stop else "end_of_data"


#: Keys a resumed run may change without --allow-changes: how long and how it is watched,
#: not what is trained.
SAFE_TO_CHANGE = (
    "output_dir",
    "trainer.max_epochs",
    "trainer.max_steps",
    "trainer.enable_progress_bar",
    "trainer.log_every_n_steps",
    "trainer.checkpoint_every_n_steps",
    "trainer.checkpoint_every_minutes",
    "trainer.tensorboard",
    "trainer.compile",
)


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(_flatten(value, path + "."))
        else:
            out[path] = value
    return out


def config_changes(saved: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """``key: old -> new`` for every leaf that differs between two run configs."""
    a, b = _flatten(saved), _flatten(now)
    return [
        f"{key}: {a.get(key, '(unset)')!r} -> {b.get(key, '(unset)')!r}"
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
    ]


def _check_resume(
    last: Path, handoff: HandOff, resolved: ResolvedConfig, allow_changes: bool
) -> int:
    """Refuse to resume on other data, or with a changed config unless allowed; the step
    the run is at."""
    ckpt, meta = read_checkpoint(last)
    saved = restore_of(last, meta).handoff
    diff = describe_handoff_difference(saved, handoff.as_dict())
    if diff:
        raise LtxError(f"Cannot resume from '{last}': the data differs from the run's: {diff}.")
    changes = config_changes(meta["config"], resolved.to_dict())
    unsafe = [c for c in changes if not c.startswith(SAFE_TO_CHANGE)]
    if unsafe and not allow_changes:
        raise LtxError(
            f"Resuming with a changed config ({'; '.join(unsafe)}); pass --allow-changes to "
            "resume with it anyway, or drop those changes."
        )
    for change in changes:
        log.warning("Resuming with %s", change)
    return int(ckpt.get("global_step", 0))


def _merge_metrics(earlier: Path, now: Path) -> None:
    """Put a resumed run's earlier rows back in front of metrics.csv: Lightning's CSV
    logger removes the file when it starts in a folder that holds one."""
    import csv

    rows: list[dict[str, str]] = []
    fields: dict[str, None] = {}
    for path in (earlier, now):
        if path.is_file():
            with path.open(newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                fields.update(dict.fromkeys(reader.fieldnames or []))
                rows.extend(reader)
    tmp = now.with_name(now.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(now)
    earlier.unlink(missing_ok=True)


def write_artifacts(task: Any, run_dir: Path) -> None:
    """The task's end-of-run files, under ``artifacts/`` (the core owns the folder)."""
    from ltx_core.task import LtxTask

    artifacts = run_dir / ARTIFACTS
    artifacts.mkdir(exist_ok=True)
    if overrides(type(task), "on_run_end", LtxTask):
        warnings.warn(
            f"{type(task).__name__}.on_run_end(run_dir) is deprecated; override "
            "write_artifacts(artifacts) to write under the run's artifacts/ folder.",
            DeprecationWarning,
            stacklevel=2,
        )
        task.on_run_end(run_dir)
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
    task_name = resolved.task_spec.name
    check_accelerator(cfg.trainer)
    # Here, not in check_accelerator: a sharded run's checkpoint tests on one device.
    check_strategy(cfg.trainer.strategy, torch.cuda.is_available())
    quiet_lightning(verbose)
    run_dir = prepare_run_dir(cfg.output_dir, task_name, resume=resume, overwrite=overwrite)
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
    resumed_from = _check_resume(last, handoff, resolved, allow_changes) if resume else None
    task = build_task(resolved, handoff, tokenizer)
    compile_backbone(task, cfg.trainer.compile)

    throughput = ThroughputMonitor()
    flops = FlopsCounter()
    trainer = build_trainer(
        cfg.trainer,
        run_dir,
        monitor=task.monitor,
        mode=task.monitor_mode,
        extra_callbacks=[throughput, flops, *extra_callbacks],
    )
    if trainer.is_global_zero:
        (run_dir / "config.yaml").write_text(resolved.to_yaml(), encoding="utf-8")
    metrics_csv = run_dir / "metrics.csv"
    earlier = run_dir / "metrics.before-resume.csv"
    if resume and trainer.is_global_zero and metrics_csv.exists():
        metrics_csv.replace(earlier)
    interrupted = False
    try:
        trainer.fit(
            task,
            datamodule=datamodule,
            ckpt_path=str(last) if resume else None,
            weights_only=True,  # ltx checkpoints hold tensors and plain data only
        )
    except (SystemExit, KeyboardInterrupt):
        # Lightning turns Ctrl-C into SystemExit(1) and SIGTERM into SIGTERMException,
        # after LastCheckpoint saved; finish the run directory, then say how to go on.
        if not (trainer.interrupted or trainer.received_sigterm):
            raise
        interrupted = True
    metrics = _floats(trainer.callback_metrics)
    stopped_by = "signal" if interrupted else _stopped_by(trainer)

    if datamodule.has_test and cfg.trainer.limit_test_batches != 0 and not interrupted:
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
        for result in results:
            metrics.update(_floats(result))

    if trainer.is_global_zero:
        for lg in trainer.loggers:
            lg.save()
        if earlier.exists():
            _merge_metrics(earlier, metrics_csv)
        if not interrupted:  # a preempted job has seconds left: pictures can wait
            write_artifacts(task, run_dir)
        peak, kind = peak_memory_mb(task.device)
        ckpt_cb = trainer.checkpoint_callback
        trainable = sum(p.numel() for p in task.parameters() if p.requires_grad)
        summary: dict[str, Any] = {
            "task": task_name,
            "metrics": dict(sorted(metrics.items())),
            "throughput": throughput.summary(trainer.world_size),
            "precision": str(trainer.precision),
            "wall_time_s": round(time.perf_counter() - started, 3),
            "peak_memory_mb": round(peak, 1),
            "peak_memory_kind": kind,
            "global_step": trainer.global_step,
            "epochs": trainer.current_epoch,
            "stopped_by": stopped_by,
            "world_size": trainer.world_size,
            # How the processes met (scaling out): Lightning's own names for what it chose.
            "num_nodes": trainer.num_nodes,
            "strategy": type(trainer.strategy).__name__,
            "cluster_environment": _environment_name(trainer),
            "trainable_params": trainable,
            "total_params": sum(p.numel() for p in task.parameters()),
            "checkpoints": {
                "last": str(last.resolve()) if last.exists() else None,
                "best": getattr(ckpt_cb, "best_model_path", None) or None,
            },
            "versions": package_versions(resolved),
        }
        # MFU beside the throughput it comes from (DESIGN's run-directory contract).
        precision, world = str(trainer.precision), trainer.world_size
        summary["throughput"].update(
            mfu_fields(flops, summary["throughput"], task.device, precision, world)
        )
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
