"""``ltx info NAME``: one component — plugin, summary, what it fits, every config field and
prediction option — without importing torch."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ltx_core.cli.boundary import error_boundary, out
from ltx_core.cli.options import complete
from ltx_core.cli.tables import JsonOpt, console
from ltx_core.errors import LtxError, did_you_mean
from ltx_core.registry import get_registry


@error_boundary
def info(
    name: Annotated[
        str, typer.Argument(help="A component name (any kind).", autocompletion=complete("task"))
    ],
    as_json: JsonOpt = False,
) -> None:
    """Describe a component: plugin, summary, what it fits and its config fields."""
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

    con = console()
    for d in described:
        con.print(
            f"[bold]{d['kind']} {d['name']}[/bold]  ({d['distribution']} {d['version']})",
            markup=True,
        )
        if d["summary"]:
            con.print(d["summary"])
        con.print(f"implementation: {d['target']}\nconfig model:   {d['config']}")
        if d["fits"]:
            con.print("fits: " + ", ".join(d["fits"]))
        for key in ("default_dataset", "default_backbone", "default_tokenizer"):
            if d.get(key):
                con.print(f"{key.replace('_', ' ')}: {d[key]}")
        table = Table(show_header=True)
        for col in ("field", "type", "default", "description"):
            table.add_column(col, overflow="fold")
        for f in d["fields"]:
            table.add_row(
                f["name"], f["type"], json.dumps(f["default"], default=str), f["description"]
            )
        con.print(table)
        if d.get("predict_options"):
            con.print("predict options (ltx predict --set key=value, ltx serve 'options'):")
            opts = Table(show_header=True)
            for col in ("option", "type", "default", "description"):
                opts.add_column(col, overflow="fold")
            for f in d["predict_options"]:
                opts.add_row(
                    f["name"], f["type"], json.dumps(f["default"], default=str), f["description"]
                )
            con.print(opts)


def _describe(spec: Any) -> dict[str, Any]:
    from pydantic import BaseModel

    model = spec.load_config()
    d = spec.to_dict()
    d["defaults"] = spec.defaults
    fields = []
    if isinstance(model, type) and issubclass(model, BaseModel):
        for fname, field in model.model_fields.items():
            default = spec.defaults.get(
                fname,
                "(required)"
                if field.is_required()
                else field.get_default(call_default_factory=True),
            )
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
        from ltx_core.inference.options import describe_options

        d["predict_options"] = describe_options(spec.load_predict_options())
    return d


def _type_name(ann: Any) -> str:
    text = getattr(ann, "__name__", None) if isinstance(ann, type) else None
    return text or str(ann).replace("typing.", "")
