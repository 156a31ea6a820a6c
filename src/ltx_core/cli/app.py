"""The ``ltx`` Typer application: wires the subcommands; ``main`` is the console script."""

from __future__ import annotations

import typer

from ltx_core.cli import config_cmd, registry_cmds, run_cmds
from ltx_core.cli.new_cmd import new_app

app = typer.Typer(
    name="ltx",
    help="Train transformer tasks from installed plugins with PyTorch Lightning.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("list")(registry_cmds.list_components)
app.command("plugins")(registry_cmds.list_plugins)
app.command("info")(registry_cmds.info)
app.command("config")(config_cmd.config)
app.command("train")(run_cmds.train)
app.command("test")(run_cmds.test)
app.command("predict")(run_cmds.predict)
app.add_typer(new_app, name="new")


def main() -> None:
    """Console-script entry point."""
    app()
