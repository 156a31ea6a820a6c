"""``ltx train``: resolve a run config, train it, print where the run went and its final metrics."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ltx_core.cli import options as c
from ltx_core.cli.boundary import error_boundary
from ltx_core.config.request import RunRequest
from ltx_core.errors import LtxError


@error_boundary
@c.with_run_options
def train(
    run: RunRequest,
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
    from ltx_core.engine.training import train as run_training

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
