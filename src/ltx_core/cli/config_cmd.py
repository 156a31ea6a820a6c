"""``ltx config``: resolve and validate a run config, print it as YAML (or its JSON Schema)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ltx_core.cli import common as c


@c.error_boundary
def config(
    task: c.TaskArg = None,
    overrides: c.Overrides = None,
    dataset: c.DatasetOpt = None,
    backbone: c.BackboneOpt = None,
    tokenizer: c.TokenizerOpt = None,
    config_file: c.ConfigOpt = None,
    gpus: c.GpusOpt = None,
    accelerator: c.AcceleratorOpt = None,
    devices: c.DevicesOpt = None,
    strategy: c.StrategyOpt = None,
    num_nodes: c.NumNodesOpt = None,
    precision: c.PrecisionOpt = None,
    max_epochs: c.MaxEpochsOpt = None,
    max_steps: c.MaxStepsOpt = None,
    seed: c.SeedOpt = None,
    output_dir: c.OutputDirOpt = None,
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the JSON Schema of this run's config instead.")
    ] = False,
) -> None:
    """Print the resolved config as YAML; validates only, trains nothing."""
    from ltx_core.resolve import resolve_config

    task, rest = c.split_task(task, overrides)
    flags = c.flag_layer(
        gpus=gpus,
        accelerator=accelerator,
        devices=devices,
        strategy=strategy,
        num_nodes=num_nodes,
        precision=precision,
        max_epochs=max_epochs,
        max_steps=max_steps,
        seed=seed,
        output_dir=output_dir,
    )
    resolved = resolve_config(
        task,
        dataset=dataset,
        backbone=backbone,
        tokenizer=tokenizer,
        config_file=config_file,
        overrides=rest,
        flags=flags,
    )
    if schema:
        c.out(json.dumps(type(resolved.config).model_json_schema(), indent=2))
    else:
        c.out(resolved.to_yaml())
