"""Test and predict from a checkpoint alone: the run config and the dataset hand-off travel
inside every ltx checkpoint, so nothing has to be repeated on the command line.

The model is rebuilt with the hand-off it was trained with; whenever data is read
again (``ltx test``, ``ltx predict`` over the dataset), the rebuilt dataset's hand-off
must match it — other labels, another vocabulary or palette are refused rather than
scored into a silently wrong number.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from ltx_core.config.resolve import ResolvedConfig, resolve_config
from ltx_core.engine.build import build_datamodule, build_task, build_tokenizer, dataset_handoff
from ltx_core.engine.checkpoints import read_checkpoint, restore_of
from ltx_core.engine.precision import resolve_precision
from ltx_core.engine.training import check_accelerator, quiet_lightning
from ltx_core.errors import LtxError
from ltx_core.handoff import HandOff, describe_handoff_difference

__all__ = ["check_same_data", "load_checkpoint", "predict", "score_test_split", "test"]


def load_checkpoint(
    path: str | Path, overrides: list[str] | None = None
) -> tuple[Any, ResolvedConfig, dict[str, Any]]:
    """Rebuild the task of a checkpoint on the CPU: ``(task, resolved config, raw checkpoint)``."""
    ckpt, meta = read_checkpoint(path)
    resolved = resolve_config(config_data=meta["config"], overrides=overrides)
    restore = restore_of(path, meta)
    tokenizer = build_tokenizer(resolved, restore)
    handoff = HandOff.model_validate(dict(restore.handoff))
    module = build_task(resolved, handoff, tokenizer, restore)
    missing, unexpected = module.load_state_dict(ckpt["state_dict"], strict=False)
    if unexpected or [m for m in missing if not m.endswith("num_batches_tracked")]:
        raise LtxError(
            f"Checkpoint '{path}' does not match its task: "
            f"{len(missing)} missing and {len(unexpected)} unexpected weights."
        )
    module.eval()
    return module, resolved, ckpt


def check_same_data(module: Any, datamodule: Any, resolved: ResolvedConfig, what: str) -> None:
    """Refuse data whose hand-off differs from the one the model was trained with."""
    rebuilt = dataset_handoff(datamodule, resolved)
    diff = describe_handoff_difference(module.handoff.as_dict(), rebuilt.as_dict())
    if diff:
        raise LtxError(
            f"Cannot {what} this checkpoint on the dataset "
            f"'{resolved.spec_name('dataset')}': its data differs from the training data: "
            f"{diff}."
        )


def test(
    path: str | Path, overrides: list[str] | None = None, *, accelerator: str = "auto"
) -> dict[str, float]:
    """Evaluate a checkpoint on its dataset's test split; returns the test metrics."""
    quiet_lightning()
    module, resolved, _ = load_checkpoint(path, overrides)
    cfg = resolved.config
    check_accelerator(cfg.trainer.model_copy(update={"accelerator": accelerator}))
    datamodule = build_datamodule(resolved, module.tokenizer)
    datamodule.prepare_data()
    datamodule.setup("test")
    if not datamodule.has_test:
        raise LtxError(
            f"The dataset '{resolved.spec_name('dataset')}' of this checkpoint has no test split."
        )
    check_same_data(module, datamodule, resolved, "test")
    return score_test_split(module, datamodule, cfg.trainer, accelerator)


def score_test_split(
    module: Any, datamodule: Any, trainer_cfg: Any, accelerator: str
) -> dict[str, float]:
    """Run the test loop on one device with the run's precision and test limit; the
    test metrics (shared by ``ltx test --ckpt`` and ``ltx test TASK``)."""
    trainer = pl.Trainer(
        accelerator=accelerator,
        devices=1,
        logger=False,
        enable_checkpointing=False,
        precision=resolve_precision(trainer_cfg.precision, accelerator),
        limit_test_batches=trainer_cfg.limit_test_batches,
        # Lightning's bar draws on standard output: only for a person watching, never into
        # a pipe that reads the metrics (``--json``).
        enable_progress_bar=trainer_cfg.enable_progress_bar and sys.stdout.isatty(),
    )
    results = trainer.test(module, datamodule=datamodule, verbose=False)
    out: dict[str, float] = {}
    for result in results:
        out.update({k: float(v) for k, v in result.items()})
    return out


def predict(
    path: str | Path,
    inputs: list[Any],
    out_dir: str | Path,
    options: dict[str, Any] | None = None,
    *,
    predictor: Any = None,
) -> list[Any]:
    """Task-specific inference from a checkpoint on inputs given in memory (the command
    line's); writes any files under ``out_dir``.

    With no inputs, the task's registered examples are used; a task without examples
    predicts over its dataset (checked against the checkpoint's hand-off first; only a
    task of the ``predict_inputs`` API can). Options are validated against the task's
    typed options first.
    """
    from ltx_core.inference.predictor import Predictor

    quiet_lightning()
    if predictor is None:
        predictor = Predictor.from_checkpoint(path, accelerator="cpu", out_dir=out_dir)
    module, resolved = predictor.module, predictor.resolved
    opts = predictor.parse_options(options or {})
    examples = list(resolved.task_spec.examples)
    if not inputs and examples:
        print(
            f"No inputs given; predicting on the task's {len(examples)} example(s). "
            "Pass inputs as arguments to predict on your own.",
            file=sys.stderr,
        )
        inputs = examples
    if inputs and predictor.batched:
        return list(predictor.predict(inputs, opts))
    datamodule = None
    if resolved.specs.get("dataset") is not None:
        datamodule = build_datamodule(resolved, module.tokenizer)
        if not inputs:
            datamodule.prepare_data()
            datamodule.setup("predict")
            check_same_data(module, datamodule, resolved, "predict with")
    if not inputs and predictor.batched:
        if datamodule is None:
            raise LtxError(
                f"The task '{resolved.task_spec.name}' needs inputs to predict on; pass them as "
                "arguments or with --input FILE."
            )
        out = Path(out_dir)
        with torch.no_grad():
            return list(module.predict_dataset(datamodule, out, opts))
    out = Path(out_dir)
    existed = out.exists()
    out.mkdir(parents=True, exist_ok=True)
    # A task of the predict_inputs API parses its own options, from the strings it was given.
    raw = {k: str(v) for k, v in (options or {}).items()}
    try:
        with torch.no_grad():
            results = list(module.predict_inputs(list(inputs), out, datamodule, **raw))
    finally:
        if not existed and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # nothing was written: leave no empty folder behind
    if not results:
        raise LtxError(
            f"The task '{resolved.task_spec.name}' predicted nothing; pass inputs to predict on "
            "(texts, image files, ...)."
        )
    return results
