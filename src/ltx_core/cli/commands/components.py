"""``ltx list``: the registered tasks, datasets, backbones and tokenizers (torch-free)."""

from __future__ import annotations

from typing import Annotated

import typer

from ltx_core.cli.boundary import error_boundary, out
from ltx_core.cli.tables import JsonOpt, columns, print_clashes, print_failures, print_json
from ltx_core.errors import LtxError, did_you_mean
from ltx_core.registry import get_registry
from ltx_core.registry.spec import KINDS


@error_boundary
def list_components(
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Only this kind: task, dataset, backbone, tokenizer."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the registered tasks, datasets, backbones and tokenizers."""
    if kind is not None and kind not in KINDS:
        raise LtxError(
            f"Unknown kind '{kind}'.{did_you_mean(kind, KINDS)} Kinds: {', '.join(KINDS)}."
        )
    reg = get_registry()
    specs = reg.components(kind)
    if as_json:
        print_json("components", specs, reg.failures)
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
        out(columns(["kind", "name", "plugin", "version", "summary"], rows))
    else:
        out("No components registered; install a plugin, e.g. 'pip install ltx-vision-igpt'.")
    print_clashes(reg)
    print_failures(reg.failures)
