"""Scoring on a test split: ``ltx test --ckpt`` (a checkpoint, on the dataset it carries)
and ``ltx test TASK`` (a model ltx did not train, built from the config as a fresh run
builds it: a Hugging Face folder or hub name, an exported ``hf_model/``). Both score with
the metrics training logs, through one test loop (:func:`score_test_split`).

For a model ltx did not train, the task decides whether it can be scored at all
(:meth:`~ltx_core.task.LtxTask.prepare_evaluation`: random weights or labels other than
the data's are refused in one sentence), so the core knows no plugin by name.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytorch_lightning as pl

from ltx_core.config.resolve import ResolvedConfig
from ltx_core.engine.build import build_datamodule, build_task, build_tokenizer, dataset_handoff
from ltx_core.engine.environment import check_accelerator, quiet_lightning
from ltx_core.engine.precision import resolve_inference_precision
from ltx_core.errors import LtxError
from ltx_core.inference.loading import check_same_data, load_checkpoint

__all__ = ["asked_precision", "evaluate", "score_test_split", "test_checkpoint"]


def test_checkpoint(
    path: str | Path,
    overrides: list[str] | None = None,
    *,
    accelerator: str = "auto",
    precision: str | None = None,
) -> dict[str, float]:
    """Evaluate a checkpoint on its dataset's test split; returns the test metrics.

    ``precision``: as asked (``--precision``, or a ``trainer.precision=`` override; ``auto``:
    bf16 where it pays), else inference's default
    (:func:`~ltx_core.engine.precision.resolve_inference_precision`), not the precision the
    checkpoint was trained in."""
    quiet_lightning()
    precision = precision or asked_precision(overrides)
    module, resolved, _ = load_checkpoint(path, overrides)
    cfg = resolved.config
    check_accelerator(accelerator)
    datamodule = build_datamodule(resolved, module.tokenizer)
    datamodule.prepare_data()
    datamodule.setup("test")
    if not datamodule.has_test:
        raise LtxError(
            f"The dataset '{resolved.spec_name('dataset')}' of this checkpoint has no test split."
        )
    check_same_data(module, datamodule, resolved, "test")
    return score_test_split(module, datamodule, cfg.trainer, accelerator, precision)


def asked_precision(overrides: list[str] | None) -> str | None:
    """The precision a ``trainer.precision=VALUE`` override asks for (the last one), if any."""
    found = None
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if sep and key.strip() == "trainer.precision":
            found = value.strip()
    return found


def score_test_split(
    module: Any,
    datamodule: Any,
    trainer_cfg: Any,
    accelerator: str,
    precision: str | None = None,
) -> dict[str, float]:
    """Run the test loop on one device with the run's test limit, in ``precision`` (as
    asked, else inference's default), saying on standard error which and why; the test
    metrics (shared by ``ltx test --ckpt`` and ``ltx test TASK``)."""
    chosen, why = resolve_inference_precision(precision, accelerator, module)
    print(f"Testing in {chosen} precision ({why}).", file=sys.stderr)
    trainer = pl.Trainer(
        accelerator=accelerator,
        devices=1,
        logger=False,
        enable_checkpointing=False,
        precision=chosen,
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


def evaluate(resolved: ResolvedConfig, precision: str | None = None) -> dict[str, float]:
    """The test metrics of the model the config builds (no checkpoint, no training), in
    ``precision`` (as asked, else inference's default; not the config's, which is for
    training)."""
    quiet_lightning()
    cfg = resolved.config
    check_accelerator(cfg.trainer.accelerator, cfg.trainer.devices)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    tokenizer = build_tokenizer(resolved)
    datamodule = build_datamodule(resolved, tokenizer)
    datamodule.prepare_data()
    datamodule.setup("test")
    if not datamodule.has_test:
        raise LtxError(
            f"The dataset '{resolved.spec_name('dataset')}' has no test split to score on; "
            "give it test data (for files: dataset.test_file)."
        )
    handoff = dataset_handoff(datamodule, resolved)
    task: Any = build_task(resolved, handoff, tokenizer)
    task.prepare_evaluation()
    return score_test_split(task, datamodule, cfg.trainer, cfg.trainer.accelerator, precision)
