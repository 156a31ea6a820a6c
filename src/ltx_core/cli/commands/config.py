"""``ltx config``: resolve and validate a run config, print it as YAML (or its JSON Schema)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ltx_core.cli import options as c
from ltx_core.cli.boundary import error_boundary, out
from ltx_core.config.request import RunRequest


@error_boundary
@c.with_run_options
def config(
    run: RunRequest,
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the JSON Schema of this run's config instead.")
    ] = False,
) -> None:
    """Print the resolved config as YAML; validates only, trains nothing."""
    resolved = run.resolve()
    if schema:
        out(json.dumps(type(resolved.config).model_json_schema(), indent=2))
    else:
        out(resolved.to_yaml())
