"""``ltx sweep``: the Typer command (every option of ``ltx train``, then the sweep's own).

Light at import: Optuna, torch and Lightning are imported by the sweep when it runs,
matplotlib only when a picture is drawn.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ltx_core.cli import options as c
from ltx_core.cli.boundary import error_boundary, out
from ltx_core.config.request import RunRequest


@error_boundary
@c.with_run_options
def sweep(
    run: RunRequest,
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
    from ltx_sweep.study import SweepSettings, run_sweep

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
    out(run_sweep(settings))
