"""``ltx new plugin NAME``: scaffold a task plugin package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ltx_core.cli.boundary import error_boundary

new_app = typer.Typer(
    help="Create new things: 'ltx new plugin NAME'.", no_args_is_help=True, rich_markup_mode=None
)


@new_app.command("plugin")
@error_boundary
def plugin(
    name: Annotated[str, typer.Argument(help="Plugin name, e.g. acme-sums (gives ltx-acme-sums).")],
    directory: Annotated[
        Path, typer.Option("--dir", help="Folder to create the plugin in.")
    ] = Path("."),
) -> None:
    """Write an installable plugin: entry point, configs, dataset, backbone, task, tests."""
    from ltx_core.authoring.scaffold import new_plugin

    root = new_plugin(name, directory)
    typer.echo(f"Created {root}")
    typer.echo(f"Next: pip install -e {root} && ltx list && pytest {root / 'tests'}")
