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
    ckpt: CkptOpt,
    overrides: c.Overrides = None,
    accelerator: Annotated[str, typer.Option("--accelerator", help="cpu, gpu or auto.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Evaluate a checkpoint on its dataset's test split."""
    from ltx_core.inference import test as run_test

    metrics = run_test(ckpt, overrides, accelerator=accelerator)
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
    output_dir: Annotated[
        str, typer.Option("--output-dir", "-o", help="Where files (e.g. images) are written.")
    ] = "predictions",
    options: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Task option key=value (e.g. temperature=0.8).", show_default=False
        ),
    ] = None,
) -> None:
    """Task-specific inference from a checkpoint; prints one JSON line per result."""
    from ltx_core.errors import LtxError
    from ltx_core.inference import predict as run_predict

    opts: dict[str, str] = {}
    for item in options or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise LtxError(f"--set takes key=value, not '{item}'.")
        opts[key.strip()] = value
    for result in run_predict(ckpt, list(inputs or []), output_dir, opts):
        typer.echo(json.dumps(result, default=str))
