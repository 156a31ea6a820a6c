"""``ltx train``, ``ltx test`` and ``ltx predict``: the commands that import torch."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ltx_core.cli import common as c
from ltx_core.errors import LtxError

CkptOpt = Annotated[str, typer.Option("--ckpt", help="An ltx checkpoint (.ckpt).")]


@c.error_boundary
@c.with_run_options
def train(
    run: c.RunOptions,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --output-dir.")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a run already in --output-dir.")
    ] = False,
    allow_changes: Annotated[
        bool,
        typer.Option("--allow-changes", help="With --resume: accept a changed config."),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Lightning's start-up messages too.")
    ] = False,
) -> None:
    """Train a task; writes config.yaml, metrics.csv, checkpoints/ and summary.json."""
    resolved = run.resolve()
    from ltx_core.training import train as run_training

    if allow_changes and not resume:
        raise LtxError("--allow-changes goes with --resume.")
    run_dir = run_training(
        resolved, resume=resume, overwrite=overwrite, verbose=verbose, allow_changes=allow_changes
    )
    summary = run_dir / "summary.json"
    if summary.exists():
        metrics = json.loads(summary.read_text())["metrics"]
        shown = {k: round(v, 4) for k, v in metrics.items() if k.startswith(("val_", "test_"))}
        typer.echo(f"Run directory: {run_dir}")
        typer.echo(json.dumps(shown, indent=2))


@c.error_boundary
def test(
    task: c.TaskArg = None,
    overrides: c.Overrides = None,
    ckpt: Annotated[
        str | None,
        typer.Option(
            "--ckpt", help="An ltx checkpoint (.ckpt); without it, TASK and its selectors."
        ),
    ] = None,
    dataset: c.DatasetOpt = None,
    backbone: c.BackboneOpt = None,
    tokenizer: c.TokenizerOpt = None,
    config_file: c.ConfigOpt = None,
    accelerator: Annotated[str, typer.Option("--accelerator", help="cpu, gpu or auto.")] = "auto",
    precision: c.PrecisionOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Evaluate a checkpoint (--ckpt) on its dataset's test split, or a model ltx did not
    train (TASK --backbone hf backbone.pretrained_model_name_or_path=DIR --dataset ...)."""
    task, rest = c.split_task(task, overrides)
    if ckpt is not None:
        from ltx_core.inference import test as run_test

        chosen = [f"'{v}'" for v in (task, dataset, backbone, tokenizer, config_file) if v]
        if chosen:
            raise LtxError(
                f"--ckpt carries its own task and components; drop {', '.join(chosen)} "
                "(key.path=value overrides still apply)."
            )
        metrics = run_test(ckpt, rest, accelerator=accelerator)
    else:
        if task is None and config_file is None:
            raise LtxError(
                "Give --ckpt CHECKPOINT, or a TASK with the model to score "
                "(e.g. ltx test text-classification --backbone hf "
                "backbone.pretrained_model_name_or_path=DIR --dataset NAME)."
            )
        from ltx_core.evaluation import evaluate

        run = c.RunOptions(
            task,
            rest,
            dataset,
            backbone,
            tokenizer,
            config_file,
            c.flag_layer(accelerator=accelerator, precision=precision),
        )
        metrics = evaluate(run.resolve())
    if as_json:
        c.out(json.dumps(metrics, indent=2))
    else:
        for key, value in sorted(metrics.items()):
            typer.echo(f"{key}\t{value:.4f}")


@c.error_boundary
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
    precision: c.PrecisionOpt = None,
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
    from ltx_core.predict_cmd import run_predict

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
