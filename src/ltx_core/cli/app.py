"""The ``ltx`` Typer application: wires the subcommands; ``main`` is the console script."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from ltx_core.cli import config_cmd, registry_cmds, run_cmds, sweep_cmds
from ltx_core.cli.common import fail
from ltx_core.cli.new_cmd import new_app
from ltx_core.cli.serve_cmd import serve


class _OneLineErrors(TyperGroup):
    """Click prints a usage error as the usage, a hint and the error on four lines; ltx
    promises one sentence for every user mistake, so this says it in one."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except typer.Abort:
            if not standalone_mode:
                raise
            sys.exit(1)
        except typer.TyperException as exc:  # Typer's own Click exceptions
            if not standalone_mode:
                raise
            err: Any = exc  # a Click exception: show(), format_message(), ctx, exit_code
            ctx = getattr(err, "ctx", None)
            if ctx is None or err.exit_code != 2 or type(err).__name__ == "NoArgsIsHelpError":
                err.show()
                sys.exit(err.exit_code)
            message = err.format_message().rstrip(".")
            try:
                raise fail(f"{message} (see '{ctx.command_path} -h').", 2) from None
            except typer.Exit as done:
                sys.exit(done.exit_code)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="ltx",
    cls=_OneLineErrors,
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
app.command("serve")(serve)
app.command("sweep")(sweep_cmds.sweep)
app.command("runs")(sweep_cmds.runs)
app.command("compare")(sweep_cmds.compare)
app.add_typer(new_app, name="new")


def main() -> None:
    """Console-script entry point."""
    app()
