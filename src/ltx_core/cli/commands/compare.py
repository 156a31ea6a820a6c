"""``ltx compare``: a few runs side by side — config differences, final metrics, curves."""

from __future__ import annotations

from typing import Annotated

import typer

from ltx_core.cli.boundary import error_boundary, out


@error_boundary
def compare(
    run_dirs: Annotated[
        list[str], typer.Argument(help="Two or more run directories.", show_default=False)
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", help="PNG of the metric curves.")
    ] = "compare.png",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace --output even if ltx did not write it.")
    ] = False,
    metrics: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            help="A metric to draw (repeatable; default: up to six, validation first).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Runs side by side: the config keys that differ, final metrics, curves in a PNG."""
    from ltx_core.runs.compare import compare_runs

    out(compare_runs(run_dirs, output, overwrite=overwrite, metrics=metrics or ()))
