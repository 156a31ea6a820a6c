"""``ltx sweep`` (Optuna over a task's config), ``ltx runs`` (the runs under a folder)
and ``ltx compare`` (a few runs side by side).

Light at import: ``ltx --help`` loads this module; Optuna, torch and Lightning are
imported by the sweep when it runs, matplotlib only when a picture is drawn.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ltx_core.cli import common as c


@c.error_boundary
@c.with_run_options
def sweep(
    run: c.RunOptions,
    space: Annotated[
        str,
        typer.Option(
            "--space", help="YAML file: config key -> {low, high, log, step} or a list of choices."
        ),
    ],
    trials: Annotated[int, typer.Option("--trials", help="Trials in the whole sweep.")],
    metric: Annotated[
        str, typer.Option("--metric", help="The summary.json metric to optimise (e.g. val_acc).")
    ],
    direction: Annotated[str, typer.Option("--direction", help="maximize or minimize.")],
    parallel: Annotated[
        int, typer.Option("--parallel", help="Trials at once on this machine (processes).")
    ] = 1,
    storage: Annotated[
        str | None,
        typer.Option(
            "--storage",
            help="Study database URL (default: sqlite in the sweep folder); e.g. "
            "postgresql://user:pw@host/db so several machines share the sweep.",
        ),
    ] = None,
    study_name: Annotated[
        str | None,
        typer.Option("--study-name", help="Study name in the storage (default: the folder's)."),
    ] = None,
    sampler: Annotated[str, typer.Option("--sampler", help="tpe, random or grid.")] = "tpe",
    pruner: Annotated[
        str, typer.Option("--pruner", help="median, hyperband or none (prune bad trials).")
    ] = "median",
    pruner_startup: Annotated[
        int, typer.Option("--pruner-startup", help="Trials before the median pruner prunes.")
    ] = 5,
    pruner_warmup: Annotated[
        int,
        typer.Option("--pruner-warmup", help="Validations of a trial before it may be pruned."),
    ] = 1,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Lightning's start-up messages too.")
    ] = False,
) -> None:
    """Search a task's config with Optuna; each trial is a run directory under
    SWEEP/trials/ (--output-dir SWEEP, default runs/sweep-TASK); re-run to continue."""
    from ltx_core.sweep import SweepSettings, run_sweep

    output_dir = run.flags.get("output_dir")
    settings = SweepSettings(
        run=run,
        space_file=space,
        trials=trials,
        metric=metric,
        direction=direction,
        parallel=parallel,
        storage=storage,
        study_name=study_name,
        output_dir=output_dir,
        sampler=sampler,
        pruner=pruner,
        pruner_startup=pruner_startup,
        pruner_warmup=pruner_warmup,
        verbose=verbose,
    )
    c.out(run_sweep(settings))


@c.error_boundary
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
    from ltx_core.runs import filter_runs, find_runs, runs_table, sort_runs

    found = filter_runs(find_runs(folder), filters or [])
    if sort:
        found = sort_runs(found, sort, descending=desc)
    if as_json:
        c.out(json.dumps([r.row() for r in found], indent=2))
    elif not found:
        c.out(f"No runs under '{folder}'.")
    else:
        c.out(runs_table(found))


@c.error_boundary
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
    from ltx_core.runs import compare_runs

    c.out(compare_runs(run_dirs, output, overwrite=overwrite, metrics=metrics or ()))
