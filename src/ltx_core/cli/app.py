"""The ``ltx`` command line: a Click group whose subcommands come from the registry.

Every command — the core's own (:mod:`ltx_core.cli.builtin`) and any plugin's — is
registered through the ``register_commands`` hook as a lazy ``"module:attr"``: ``ltx
--help`` lists them from their one-line help without importing any, and a command's
module is imported only when it runs. A command whose module fails to import is
reported in one sentence naming its plugin; the other commands keep working.
``main`` is the console script.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from ltx_core.cli.boundary import fail
from ltx_core.errors import LtxError, did_you_mean

__all__ = ["app", "main"]

#: Commands that come with a distribution of their own: the hint for a missing one.
ELSEWHERE = {"serve": "ltx-serve", "sweep": "ltx-sweep", "chat": "ltx-llm"}


def _exit(message: str, code: int = 2) -> None:
    try:
        raise fail(message, code) from None
    except typer.Exit as done:
        sys.exit(done.exit_code)


def _registry() -> Any:
    from ltx_core.registry import get_registry

    try:
        return get_registry()
    except LtxError as exc:  # LTX_STRICT_PLUGINS and a failed plugin
        _exit(str(exc), exc.exit_code)


def _command_of(spec: Any) -> Any:
    """The Click command of a registered target: a Typer function or a ``typer.Typer``."""
    target = spec.load_target()
    if isinstance(target, typer.Typer):
        return typer.main.get_group(target)
    if callable(target):
        info = typer.models.CommandInfo(name=spec.name, callback=target)
        return typer.main.get_command_from_info(
            info, pretty_exceptions_short=True, rich_markup_mode=None
        )
    raise LtxError(
        f"The command '{spec.name}' of plugin '{spec.plugin}' names '{spec.target}', which is "
        "neither a function nor a typer.Typer; fix the plugin's registration."
    )


def _broken(name: str, message: str, code: int) -> TyperCommand:
    """Stands in for a command whose module failed: says so, whatever it is given."""

    def explain() -> None:
        _exit(message, code)

    return TyperCommand(
        name,
        callback=explain,
        help=message,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )


class LtxGroup(TyperGroup):
    """``ltx``: commands from the registry, and one sentence for every user mistake.

    Click prints a usage error as the usage, a hint and the error on four lines; ltx
    promises one sentence for every mistake, so :meth:`main` says it in one.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return [spec.name for spec in _registry().commands()]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        spec = _registry().command(cmd_name)
        if spec is None:
            return None
        try:
            return _command_of(spec)
        except LtxError as exc:
            return _broken(cmd_name, str(exc), exc.exit_code)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and _registry().command(name) is None:
            if name in ELSEWHERE:
                dist = ELSEWHERE[name]
                _exit(f"'ltx {name}' comes with the {dist} plugin; install it: pip install {dist}")
            hint = did_you_mean(name, self.list_commands(ctx))
            _exit(f"No such command '{name}'.{hint} (see 'ltx -h').")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(spec.name, spec.help) for spec in _registry().commands()]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

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
            _exit(f"{message} (see '{ctx.command_path} -h').")
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="ltx",
    cls=LtxGroup,
    help="Train transformer tasks from installed plugins with PyTorch Lightning.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root() -> None:
    """Train transformer tasks from installed plugins with PyTorch Lightning."""


def main() -> None:
    """Console-script entry point."""
    app()
