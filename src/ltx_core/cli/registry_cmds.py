"""``ltx list``, ``ltx plugins`` and ``ltx info``: what is installed, without importing torch."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ltx_core.cli.common import complete, error_boundary, out
from ltx_core.errors import LtxError, did_you_mean
from ltx_core.spec import KINDS

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for tools.")]


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _columns(headers: list[str], rows: list[list[str]]) -> str:
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


def _print_json(key: str, items: list[Any], failures: list[Any]) -> None:
    """``{key: [...], "failed": [...]}``, the shape tools read from ``--json``."""
    payload = {key: [i.to_dict() for i in items], "failed": [f.to_dict() for f in failures]}
    out(json.dumps(payload, indent=2))


def _print_failures(failures: list[Any]) -> None:
    if not failures:
        return
    console = _console()
    console.print()
    for f in failures:
        who = f"{f.plugin} ({f.distribution} {f.version})".strip()
        console.print(f"[red]Plugin {who} failed to load:[/red] {f.error}", markup=True)


@error_boundary
def list_components(
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Only this kind: task, dataset, backbone, tokenizer."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the registered tasks, datasets, backbones and tokenizers."""
    from ltx_core.registry import get_registry

    if kind is not None and kind not in KINDS:
        raise LtxError(
            f"Unknown kind '{kind}'.{did_you_mean(kind, KINDS)} Kinds: {', '.join(KINDS)}."
        )
    reg = get_registry()
    specs = reg.components(kind)
    if as_json:
        _print_json("components", specs, reg.failures)
        return
    clashes = {
        (s.kind, s.name)
        for s in specs
        if len([t for t in specs if (t.kind, t.name) == (s.kind, s.name)]) > 1
    }
    rows = [
        [
            s.kind,
            s.qualified_name if (s.kind, s.name) in clashes else s.name,
            s.distribution or s.plugin,
            s.version,
            s.summary,
        ]
        for s in specs
    ]
    if specs:
        out(_columns(["kind", "name", "plugin", "version", "summary"], rows))
    else:
        out("No components registered; install a plugin, e.g. 'pip install ltx-vision-igpt'.")
    _print_failures(reg.failures)


@error_boundary
def list_plugins(as_json: JsonOpt = False) -> None:
    """List the installed plugins, what each registers, and those that failed."""
    from ltx_core.registry import get_registry

    reg = get_registry()
    if as_json:
        _print_json("plugins", reg.plugins, reg.failures)
        return
    rows = [
        [p.plugin, p.distribution, p.version, str(len(p.components)), p.module] for p in reg.plugins
    ]
    if rows:
        out(_columns(["plugin", "distribution", "version", "components", "module"], rows))
    else:
        out("No plugins installed; e.g. 'pip install ltx-vision-igpt'.")
    _print_failures(reg.failures)


@error_boundary
def info(
    name: Annotated[
        str, typer.Argument(help="A component name (any kind).", autocompletion=complete("task"))
    ],
    as_json: JsonOpt = False,
) -> None:
    """Describe a component: plugin, summary, what it fits and its config fields."""
    from ltx_core.registry import get_registry

    reg = get_registry()
    specs = reg.find(name)
    if not specs:
        hint = did_you_mean(name, list(reg.all_names()))
        raise LtxError(f"No component is named '{name}'.{hint}")
    described = [_describe(s) for s in specs]
    if as_json:
        out(json.dumps(described if len(described) > 1 else described[0], indent=2, default=str))
        return
    from rich.table import Table

    console = _console()
    for d in described:
        console.print(
            f"[bold]{d['kind']} {d['name']}[/bold]  ({d['distribution']} {d['version']})",
            markup=True,
        )
        if d["summary"]:
            console.print(d["summary"])
        console.print(f"implementation: {d['target']}\nconfig model:   {d['config']}")
        if d["fits"]:
            console.print("fits: " + ", ".join(d["fits"]))
        for key in ("default_dataset", "default_backbone", "default_tokenizer"):
            if d.get(key):
                console.print(f"{key.replace('_', ' ')}: {d[key]}")
        table = Table(show_header=True)
        for col in ("field", "type", "default", "description"):
            table.add_column(col, overflow="fold")
        for f in d["fields"]:
            table.add_row(
                f["name"], f["type"], json.dumps(f["default"], default=str), f["description"]
            )
        console.print(table)
        if d.get("predict_options"):
            console.print("predict options (ltx predict --set key=value, ltx serve 'options'):")
            opts = Table(show_header=True)
            for col in ("option", "type", "default", "description"):
                opts.add_column(col, overflow="fold")
            for f in d["predict_options"]:
                opts.add_row(
                    f["name"], f["type"], json.dumps(f["default"], default=str), f["description"]
                )
            console.print(opts)


def _describe(spec: Any) -> dict[str, Any]:
    from pydantic import BaseModel

    model = spec.load_config()
    d = spec.to_dict()
    d["defaults"] = spec.defaults
    fields = []
    if isinstance(model, type) and issubclass(model, BaseModel):
        for fname, field in model.model_fields.items():
            default = spec.defaults.get(fname, field.get_default(call_default_factory=True))
            fields.append(
                {
                    "name": fname,
                    "type": _type_name(field.annotation),
                    "default": default,
                    "description": field.description or "",
                }
            )
    d["fields"] = fields
    if getattr(spec, "predict_options", ""):
        from ltx_core.predict_options import describe_options

        d["predict_options"] = describe_options(spec.load_predict_options())
    return d


def _type_name(ann: Any) -> str:
    text = getattr(ann, "__name__", None) if isinstance(ann, type) else None
    return text or str(ann).replace("typing.", "")
