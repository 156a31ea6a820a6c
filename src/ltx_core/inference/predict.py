"""The body of ``ltx predict``: inputs from arguments or a file, results to standard
output or a file, through one :class:`~ltx_core.inference.predictor.Predictor` built
once and handed on.

- Inputs given as arguments (:func:`predict_given`) are one batch in memory; with none,
  the task's registered examples, or else the task predicts over the checkpoint's own
  dataset (:meth:`~ltx_core.task.LtxTask.predict_dataset`, after the data is checked
  against the checkpoint's hand-off).
- ``--input FILE`` streams every row through ``Trainer.predict``
  (:meth:`~ltx_core.inference.predictor.Predictor.predict_rows`), read by the
  checkpoint's dataset where it knows the file's format, else by the task
  (:meth:`~ltx_core.inference.predictor.Predictor.read_input`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ltx_core.engine.build import build_datamodule
from ltx_core.errors import LtxError
from ltx_core.inference.loading import check_same_data
from ltx_core.inference.options import parse_set_items
from ltx_core.inference.predictor import Predictor
from ltx_core.inference.writers import open_writer

__all__ = ["predict", "predict_given", "run_predict"]


def predict(
    path: str | Path,
    inputs: Sequence[Any],
    out_dir: str | Path = "predictions",
    options: Mapping[str, Any] | None = None,
    *,
    accelerator: str = "cpu",
) -> list[Any]:
    """Predict inputs in memory from a checkpoint (as ``ltx predict --ckpt PATH INPUT...``
    does); files the task writes go under ``out_dir``."""
    predictor = Predictor.from_checkpoint(path, accelerator=accelerator, out_dir=out_dir)
    return predict_given(predictor, list(inputs), predictor.parse_options(options or {}))


def predict_given(predictor: Predictor, inputs: list[Any], options: BaseModel) -> list[Any]:
    """Predict inputs given in memory (the command line's), in order. With none, the
    task's registered examples; a task without examples predicts over its dataset."""
    resolved = predictor.resolved
    examples = list(resolved.task_spec.examples)
    if not inputs and examples:
        print(
            f"No inputs given; predicting on the task's {len(examples)} example(s). "
            "Pass inputs as arguments to predict on your own.",
            file=sys.stderr,
        )
        inputs = examples
    if inputs:
        return predictor.predict(inputs, options)
    if resolved.specs.get("dataset") is None:
        raise LtxError(
            f"The task '{resolved.task_spec.name}' needs inputs to predict on; pass them as "
            "arguments or with --input FILE."
        )
    module = predictor.module
    datamodule = build_datamodule(resolved, module.tokenizer)
    datamodule.prepare_data()
    datamodule.setup("predict")
    check_same_data(module, datamodule, resolved, "predict with")
    results = predictor.predict_dataset(datamodule, options)
    if not results:
        raise LtxError(
            f"The task '{resolved.task_spec.name}' predicted nothing; pass inputs to predict on "
            "(texts, image files, ...)."
        )
    return results


def _other_rank() -> bool:
    """A copy of this command that Lightning started for another device: it predicts
    its share of the rows but writes nothing itself."""
    return any(os.environ.get(var, "0") not in ("", "0") for var in ("RANK", "LOCAL_RANK"))


def run_predict(
    ckpt: str,
    *,
    inputs: list[str],
    input_file: str | None,
    output: str | None,
    keep_columns: str | None,
    batch_size: int | None,
    trainer: dict[str, Any],
    output_dir: str,
    options: list[str] | None,
    overwrite: bool,
    progress: bool,
) -> None:
    """Everything ``ltx predict`` does; user mistakes raise :class:`LtxError`."""
    raw_options = parse_set_items(options)
    keep = [k.strip() for k in (keep_columns or "").split(",") if k.strip()]
    if inputs and input_file is not None:
        raise LtxError("Give inputs as arguments or with --input, not both.")
    if keep and input_file is None:
        raise LtxError("--keep-columns carries columns of an --input file; give one.")
    if batch_size is not None and batch_size < 1:
        raise LtxError(f"--batch-size must be at least 1, not {batch_size}.")
    accelerator = str(trainer.get("accelerator", "auto"))
    devices = trainer.get("devices", 1)
    several = (isinstance(devices, int) and devices > 1) or (
        isinstance(devices, list) and len(devices) > 1
    )
    if input_file == "-" and several:
        raise LtxError("Standard input can be read by one device only; give --input FILE.")
    other_rank = _other_rank()
    # Checked before the model loads: an existing file is refused at once.
    writer_ctx = open_writer(None if other_rank else output, overwrite=overwrite or other_rank)

    predictor = Predictor.from_checkpoint(
        ckpt,
        accelerator=accelerator,
        devices=devices,
        precision=trainer.get("precision"),
        batch_size=batch_size,
        out_dir=output_dir,
    )
    opts = predictor.parse_options(raw_options)
    if not other_rank:
        print(
            f"Predicting in {predictor.precision} precision ({predictor.precision_reason}).",
            file=sys.stderr,
        )
    with writer_ctx as writer:
        if input_file is None:
            for row in predict_given(predictor, inputs, opts):
                writer.write(row)
            return
        source = input_file
        emit = (lambda row: None) if other_rank else writer.write
        count = predictor.predict_rows(
            lambda: predictor.read_input(source),
            emit,
            opts,
            keep_columns=keep,
            progress=progress,
        )
        if count == 0 and not other_rank:
            raise LtxError(f"The input '{input_file}' holds no rows to predict.")
