"""``ltx data``: look at a run's data before training on it.

``ltx data preview TASK [as for train] [--split S] [-n N] [--json]`` shows a few examples
as the model will see them (decoded inputs, labels or targets) and the split's
statistics (lengths, truncation at the configured maximum, labels). It takes the run
options of ``ltx train``, so a training command line previews with ``train`` replaced.
Importing this module imports no torch; the preview does (:mod:`ltx_core.engine.preview`).
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Annotated, Any

import typer

from ltx_core.cli import options as c
from ltx_core.cli.boundary import error_boundary, out
from ltx_core.config.request import RunRequest

data_app = typer.Typer(
    help="Look at a run's data: 'ltx data preview TASK'.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@data_app.command("preview")
@error_boundary
@c.with_run_options
def preview(
    run: RunRequest,
    split: Annotated[
        str, typer.Option("--split", help="The split to show: train, validation or test.")
    ] = "train",
    num_examples: Annotated[
        int,
        typer.Option("--num-examples", "-n", min=0, help="Examples to show (0: statistics only)."),
    ] = 3,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print one JSON object: {"task", "dataset", "split", "examples": [{"text", '
            '"tokens", ...}], "stats": {...}, "notes": [...]}.',
        ),
    ] = False,
) -> None:
    """Show a split's examples as the model will see them, and its statistics.

    Decoded inputs and their tokens, labels or targets; lengths, the truncation rate at
    the configured maximum, the label distribution. Takes the run options of 'ltx train'.
    """
    resolved = run.resolve()
    from ltx_core.engine.preview import preview_data
    from ltx_core.preview import render_text

    # Whatever a tokenizer or dataset library prints while loading goes to stderr:
    # standard output carries the preview alone (one JSON document with --json).
    with contextlib.redirect_stdout(sys.stderr):
        result = preview_data(resolved, split=split, limit=num_examples)
    # Qualified names, as a run's config.yaml records them.
    task = resolved.task_spec.qualified_name
    dataset_spec = resolved.specs.get("dataset")
    dataset = dataset_spec.qualified_name if dataset_spec is not None else None
    if as_json:
        payload = {"task": task, "dataset": dataset, "split": split, **result.to_dict()}
        out(json.dumps(payload, ensure_ascii=False, default=_plain))
        return
    shown = len(result.examples)
    first = {0: "", 1: ": its first example"}.get(shown, f": its first {shown} examples")
    title = f"{task} · {dataset} · split '{split}'{first}"
    out(render_text(result, title))


def _plain(value: Any) -> Any:
    """A value a task's preview left as an array or tensor, as JSON can hold it."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
