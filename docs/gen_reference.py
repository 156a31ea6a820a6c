"""Generate the CLI and config reference pages from the Typer app and the pydantic models,
so the reference cannot drift from the code."""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("TYPER_USE_RICH", "0")  # plain help text, before typer is imported


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def cli_reference() -> str:
    import typer

    from ltx_core.cli.app import app
    from ltx_core.registry import get_registry

    root = typer.main.get_command(app)
    lines = [
        "# CLI reference",
        "",
        "Generated from the commands the installed plugins register (the core's own through",
        "its built-in plugin `ltx`).",
        "",
    ]
    registry = get_registry()

    def walk(cmd: Any, path: list[str]) -> None:
        # Typer vendors its own click: duck-type rather than isinstance-check. The root
        # group lists the registry's commands; its context is not needed to do so.
        if hasattr(cmd, "list_commands"):
            for name in cmd.list_commands(None):
                walk(cmd.get_command(None, name), [*path, name])
            return
        args = [p for p in cmd.params if p.param_type_name == "argument"]
        opts = [p for p in cmd.params if p.param_type_name == "option"]
        usage = [*path, *(a.name.upper() + ("..." if a.nargs == -1 else "") for a in args)]
        lines.extend([f"## `{' '.join(path)}`", "", (cmd.help or "").strip(), ""])
        spec = registry.command(path[1]) if len(path) > 1 else None
        if spec is not None and spec.plugin != "ltx":
            lines.extend(
                [f"From the plugin `{spec.plugin}` (`pip install {spec.distribution}`).", ""]
            )
        lines.extend(["```", " ".join(usage) + " [OPTIONS]", "```", ""])
        lines.extend(["| parameter | help | default |", "|---|---|---|"])
        for p in args + opts:
            names = ", ".join(f"`{o}`" for o in p.opts) if p in opts else f"`{p.name.upper()}`"
            default = "" if p.default in (None, False, ()) else f"`{p.default}`"
            lines.append(f"| {names} | {_cell(getattr(p, 'help', '') or '')} | {default} |")
        lines.append("")

    walk(root, ["ltx"])
    return "\n".join(lines)


def _model_table(model: Any, defaults: dict[str, Any] | None = None) -> list[str]:
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        default = (defaults or {}).get(name, field.get_default(call_default_factory=True))
        ann = field.annotation
        type_name = ann.__name__ if isinstance(ann, type) else str(ann).replace("typing.", "")
        desc = _cell(field.description or "")
        rows.append(f"| `{name}` | {_cell(type_name)} | `{_cell(default)}` | {desc} |")
    return rows


def config_reference() -> str:
    from ltx_core.config.models import OptimizerConfig, SchedulerConfig, TrainerConfig
    from ltx_core.registry import get_registry

    lines = [
        "# Config reference",
        "",
        "Generated from the pydantic models. A run's config has the sections `task`, "
        "`dataset`, `backbone`, `tokenizer`, `optimizer`, `scheduler`, `trainer` and the "
        "keys `seed` (default 42) and `output_dir`. Set any key with `key.path=value`.",
        "",
    ]
    for title, model in (("optimizer", OptimizerConfig), ("scheduler", SchedulerConfig),
                         ("trainer", TrainerConfig)):  # fmt: skip
        lines.extend(
            [f"## `{title}`", "", (model.__doc__ or "").strip(), "", *_model_table(model), ""]
        )
    reg = get_registry()
    for kind in ("task", "dataset", "backbone", "tokenizer"):
        specs = reg.components(kind)
        if not specs:
            continue
        lines.extend([f"## {kind.capitalize()}s", ""])
        for spec in specs:
            model = spec.load_config()
            how = f"`ltx train {spec.name}`" if kind == "task" else f"`--{kind} {spec.name}`"
            lines.extend([
                f"### `{spec.name}` ({spec.distribution})", "", spec.summary, "",
                f"Select with {how}.", "", *_model_table(model, spec.defaults), "",
            ])  # fmt: skip
    return "\n".join(lines)
