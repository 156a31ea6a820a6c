"""``ltx plugins``: the installed plugins, what each registers, and those that failed."""

from __future__ import annotations

from ltx_core.cli.boundary import error_boundary, out
from ltx_core.cli.tables import JsonOpt, columns, console, print_failures, print_json
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
            str(len(p.components)),
            str(len(p.commands)),
            p.module,
        ]
        for p in reg.plugins
    ]
    out(columns(["plugin", "distribution", "version", "components", "commands", "module"], rows))
    if len(reg.plugins) == 1:  # the core's own commands only
        out("No task plugins installed; e.g. 'pip install ltx-vision-igpt'.")
    clashes = reg.command_clashes()
    if clashes:
        con = console()
        con.print()
        for kept, other in clashes:
            con.print(
                f"[yellow]Command '{other.name}' of plugin {other.plugin} is not used:[/yellow] "
                f"plugin {kept.plugin} registers it first.",
                markup=True,
            )
    print_failures(reg.failures)
