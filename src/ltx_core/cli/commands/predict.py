"""``ltx predict``: a checkpoint on inputs given as arguments or every row of a file."""

from __future__ import annotations

from typing import Annotated

import typer

from ltx_core.cli import options as c
from ltx_core.cli.boundary import error_boundary

CkptOpt = Annotated[str, typer.Option("--ckpt", help="An ltx checkpoint (.ckpt).")]


@error_boundary
def predict(
    ckpt: CkptOpt,
    inputs: Annotated[
        list[str] | None,
        typer.Argument(help="Inputs (texts, image files, ...).", show_default=False),
    ] = None,
    input_file: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            help="A file to predict every row of (text tasks: csv, tsv, json, jsonl, parquet, "
            "as their training data; igpt: image files, a folder or a glob); '-': JSON lines "
            "on standard input.",
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            help="Where results go: .jsonl (default: standard output), .csv or .parquet.",
        ),
    ] = None,
    keep_columns: Annotated[
        str | None,
        typer.Option("--keep-columns", help="Input columns to carry into the output: id,text."),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", help="Inputs per batch (default: the run's batch size)."),
    ] = None,
    gpus: Annotated[
        int | None,
        typer.Option("--gpus", help="Predict on N GPUs (= --accelerator gpu --devices N)."),
    ] = None,
    accelerator: c.AcceleratorOpt = None,
    devices: c.DevicesOpt = None,
    precision: c.InferencePrecisionOpt = None,
    output_dir: Annotated[
        str, typer.Option("--output-dir", "-o", help="Where files (e.g. images) are written.")
    ] = "predictions",
    options: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Task option key=value (e.g. temperature=0.8).", show_default=False
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing --output file.")
    ] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on standard error.")
    ] = True,
) -> None:
    """Predict from a checkpoint: inputs as arguments or every row of --input; one JSON
    line per input (or a CSV / Parquet --output), in input order."""
    from ltx_core.inference.predict import run_predict

    run_predict(
        ckpt,
        inputs=list(inputs or []),
        input_file=input_file,
        output=output,
        keep_columns=keep_columns,
        batch_size=batch_size,
        trainer=c.flag_layer(
            gpus=gpus, accelerator=accelerator, devices=devices, precision=precision
        ).get("trainer", {}),
        output_dir=output_dir,
        options=options,
        overwrite=overwrite,
        progress=progress,
    )
