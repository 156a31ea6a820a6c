"""``ltx runs``: a table of the run directories under a folder (torch-free)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ltx_core.cli.boundary import error_boundary, out


@error_boundary
def runs(
    folder: Annotated[
        str, typer.Argument(help="Folder holding run directories (searched deeply).")
    ] = "runs",
    sort: Annotated[
        str | None,
        typer.Option("--sort", help="Sort by a column, metric or config key (e.g. val_acc)."),
    ] = None,
    desc: Annotated[bool, typer.Option("--desc", help="Sort from the largest.")] = False,
    filters: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="Keep runs where key=value (also !=, <, <=, >, >=); repeatable.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A table of the runs under a folder: task, data, backbone, metrics, steps, time, status."""
    from ltx_core.runs.listing import filter_runs, find_runs, runs_table, sort_runs

    found = filter_runs(find_runs(folder), filters or [])
    if sort:
        found = sort_runs(found, sort, descending=desc)
    if as_json:
        out(json.dumps([r.row() for r in found], indent=2))
    elif not found:
        out(f"No runs under '{folder}'.")
    else:
        out(runs_table(found))
