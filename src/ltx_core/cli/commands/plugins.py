"""``ltx plugins``: the installed plugins, what each registers, and those that failed."""

from __future__ import annotations

from rich.markup import escape

from ltx_core.cli.boundary import error_boundary, out
from ltx_core.cli.tables import (
    JsonOpt,
    columns,
    console,
    print_clashes,
    print_failures,
    print_json,
)
from ltx_core.registry import get_registry


@error_boundary
def list_plugins(as_json: JsonOpt = False) -> None:
    """List the installed plugins, what each registers, and those that failed."""
    reg = get_registry()
    if as_json:
        print_json("plugins", reg.plugins, reg.failures)
        return
    rows = [
        [
            p.plugin,
            p.distribution,
            p.version,
            "-" if p.api is None else str(p.api),
            str(len(p.components)),
            str(len(p.commands)),
            p.module,
        ]
        for p in reg.plugins
    ]
    headers = ["plugin", "distribution", "version", "api", "components", "commands", "module"]
    out(columns(headers, rows))
    if len(reg.plugins) == 1:  # the core's own commands only
        out("No task plugins installed; e.g. 'pip install ltx-vision-igpt'.")
    notes = [(p.plugin, n) for p in reg.plugins for n in p.notes]
    con = console()
    if notes:
        con.print()
        for plugin, note in notes:
            con.print(f"Plugin {plugin}: {escape(note)}", markup=False)
    clashes = reg.command_clashes()
    if clashes:
        con.print()
        for kept, other in clashes:
            con.print(
                f"[yellow]Command '{other.name}' of plugin {other.plugin} is not used:[/yellow] "
                f"plugin {kept.plugin} registers it first.",
                markup=True,
            )
    print_clashes(reg)
    print_failures(reg.failures)
