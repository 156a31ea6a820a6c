"""``ltx new``: scaffold a plugin package of one of three kinds.

``ltx new plugin NAME`` (a task family of its own), ``ltx new dataset NAME --task TASK``
and ``ltx new backbone NAME --task TASK`` (a component for another plugin's task), and
``ltx new command NAME`` (a subcommand of ``ltx``). The templates and their rules live
in :mod:`ltx_core.authoring.scaffold`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from ltx_core.cli.boundary import error_boundary

new_app = typer.Typer(
    help="Create a plugin: 'ltx new plugin NAME', 'ltx new dataset NAME --task TASK', "
    "'ltx new backbone NAME --task TASK' or 'ltx new command NAME'.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

Directory = Annotated[Path, typer.Option("--dir", help="Folder to create the plugin in.")]


def _created(root: Path, check: str) -> None:
    typer.echo(f"Created {root}")
    typer.echo(f"Next: pip install -e {root} && {check} && pytest {root / 'tests'}")


@new_app.command("plugin")
@error_boundary
def plugin(
    name: Annotated[str, typer.Argument(help="Plugin name, e.g. acme-sums (gives ltx-acme-sums).")],
    task: Annotated[
        str | None, typer.Option("--task", help="The task's name (default: the plugin's name).")
    ] = None,
    directory: Directory = Path("."),
) -> None:
    """Write a task plugin: entry point, configs, a dataset, backbones, the task, tests."""
    from ltx_core.authoring.scaffold import new_plugin

    _created(new_plugin(name, directory, task), "ltx list")


def _component(kind: Literal["dataset", "backbone"], name: str, task: str, directory: Path) -> None:
    from ltx_core.authoring.scaffold import new_component

    root = new_component(kind, name, task, directory)
    _created(root, f"ltx list --kind {kind}")


@new_app.command("dataset")
@error_boundary
def dataset(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. acme-reviews.")],
    task: Annotated[
        str, typer.Option("--task", help="The task it feeds, e.g. text-classification.")
    ],
    directory: Directory = Path("."),
) -> None:
    """Write a plugin adding a dataset to another plugin's task."""
    _component("dataset", name, task, directory)


@new_app.command("backbone")
@error_boundary
def backbone(
    name: Annotated[str, typer.Argument(help="Backbone name, e.g. acme-encoder.")],
    task: Annotated[
        str, typer.Option("--task", help="The task it serves, e.g. text-classification.")
    ],
    directory: Directory = Path("."),
) -> None:
    """Write a plugin adding a backbone to another plugin's task."""
    _component("backbone", name, task, directory)


@new_app.command("command")
@error_boundary
def command(
    name: Annotated[str, typer.Argument(help="Command name, e.g. acme-report (ltx acme-report).")],
    directory: Directory = Path("."),
) -> None:
    """Write a plugin adding a subcommand to ltx."""
    from ltx_core.authoring.scaffold import new_command

    root = new_command(name, directory)
    _created(root, f"ltx {root.name.removeprefix('ltx-')} --help")
