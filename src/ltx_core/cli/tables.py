"""Plain-text tables and the plugin-failure report that ``ltx list``, ``ltx plugins`` and
``ltx info`` print."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape

from ltx_core.cli.boundary import out

__all__ = [
    "JsonOpt",
    "columns",
    "console",
    "print_clashes",
    "print_failures",
    "print_json",
]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for tools.")]


def console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def columns(headers: list[str], rows: list[list[str]]) -> str:
    """A plain table, one line per row: columns padded to their widest cell, the last one
    cut to the terminal's width (when writing to one) rather than wrapped.

    Plain text rather than a Rich table: rendering ~50 rows through Rich cost about 0.1 s,
    a third of what ``ltx list`` may take, and piped output stays one row per line.
    """
    import shutil
    import sys

    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers) - 1)]
    lead = sum(widths) + 2 * len(widths)
    limit = shutil.get_terminal_size().columns if sys.stdout.isatty() else 0
    room = max(limit - lead, 20) if limit else 0
    lines = []
    for row in [headers, [("-" * len(h)) for h in headers], *rows]:
        last = row[-1]
        if room and len(last) > room:
            last = last[: room - 1] + "…"
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, last]).rstrip())
    return "\n".join(lines)


def print_json(key: str, items: list[Any], failures: list[Any]) -> None:
    """``{key: [...], "failed": [...]}``, the shape tools read from ``--json``."""
    payload = {key: [i.to_dict() for i in items], "failed": [f.to_dict() for f in failures]}
    out(json.dumps(payload, indent=2))


_FAILED = {
    "broken": "failed to load",
    "incompatible": "is not loaded (incompatible)",
    "invalid": "has a component that is not loaded",
}


def print_failures(failures: list[Any]) -> None:
    """One line per plugin failure: who, what kind of failure, and its sentence."""
    if not failures:
        return
    con = console()
    con.print()
    for f in failures:
        who = f"{f.plugin} ({f.distribution} {f.version})".strip()
        what = _FAILED.get(getattr(f, "status", "broken"), "failed to load")
        con.print(f"[red]Plugin {who} {what}:[/red] {escape(f.error)}", markup=True)


def print_clashes(registry: Any) -> None:
    """The component names several plugins register, with the names that pick each."""
    clashes = registry.clashes()
    if not clashes:
        return
    con = console()
    con.print()
    for specs in clashes:
        names = " or ".join(f"'{s.qualified_name}'" for s in specs)
        con.print(
            f"[yellow]The {specs[0].kind} name '{specs[0].name}' is registered by "
            f"{len(specs)} plugins:[/yellow] use {names} (a task's own plugin is used "
            "first for its runs).",
            markup=True,
        )
