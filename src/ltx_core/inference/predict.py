"""The body of ``ltx predict``: inputs from arguments or a file, results to standard
output or a file, through one :class:`~ltx_core.inference.predictor.Predictor`."""

from __future__ import annotations

import os
from typing import Any

from ltx_core.errors import LtxError
from ltx_core.inference.options import parse_set_items
from ltx_core.inference.writers import open_writer

__all__ = ["run_predict"]


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

    from ltx_core.inference.predictor import Predictor

    predictor = Predictor.from_checkpoint(
        ckpt,
        accelerator=accelerator,
        devices=devices,
        precision=trainer.get("precision"),
        batch_size=batch_size,
        out_dir=output_dir,
    )
    opts = predictor.parse_options(raw_options)
    with writer_ctx as writer:
        if input_file is None:
            from ltx_core.inference.loading import predict

            for row in predict(ckpt, inputs, output_dir, raw_options, predictor=predictor):
                writer.write(row)
            return
        source = input_file
        emit = (lambda row: None) if other_rank else writer.write
        count = predictor.predict_rows(
            lambda: predictor.module.read_predict_file(source),
            emit,
            opts,
            keep_columns=keep,
            progress=progress,
        )
        if count == 0 and not other_rank:
            raise LtxError(f"The input '{input_file}' holds no rows to predict.")
