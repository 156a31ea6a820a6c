"""``ltx train``, ``ltx test`` and ``ltx predict``: the commands that import torch."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ltx_core.cli import common as c

CkptOpt = Annotated[str, typer.Option("--ckpt", help="An ltx checkpoint (.ckpt).")]


@c.error_boundary
def train(
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
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --output-dir.")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a run already in --output-dir.")
    ] = False,
) -> None:
    """Train a task; writes config.yaml, metrics.csv, checkpoints/ and summary.json."""
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
    from ltx_core.training import check_accelerator

    # Before importing the plugin's torch code: the GPU check is the cheapest to fail.
    check_accelerator(resolved.config.trainer)  # type: ignore[attr-defined]
    from ltx_core.training import train as run

    run_dir = run(resolved, resume=resume, overwrite=overwrite)
    summary = run_dir / "summary.json"
    if summary.exists():
        metrics = json.loads(summary.read_text())["metrics"]
        shown = {k: round(v, 4) for k, v in metrics.items() if k.startswith(("val_", "test_"))}
        typer.echo(f"Run directory: {run_dir}")
        typer.echo(json.dumps(shown, indent=2))


@c.error_boundary
def test(
    ckpt: CkptOpt,
    overrides: c.Overrides = None,
    accelerator: Annotated[str, typer.Option("--accelerator", help="cpu, gpu or auto.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Evaluate a checkpoint on its dataset's test split."""
    from ltx_core.inference import test as run_test

    metrics = run_test(ckpt, overrides, accelerator=accelerator)
    if as_json:
        c.out(json.dumps(metrics, indent=2))
    else:
        for key, value in sorted(metrics.items()):
            typer.echo(f"{key}\t{value:.4f}")


@c.error_boundary
def predict(
    ckpt: CkptOpt,
    inputs: Annotated[
        list[str] | None,
        typer.Argument(help="Inputs (texts, image files, ...).", show_default=False),
    ] = None,
    output_dir: Annotated[
        str, typer.Option("--output-dir", "-o", help="Where files (e.g. images) are written.")
    ] = "predictions",
    options: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Task option key=value (e.g. temperature=0.8).", show_default=False
        ),
    ] = None,
) -> None:
    """Task-specific inference from a checkpoint; prints one JSON line per result."""
    from ltx_core.errors import LtxError
    from ltx_core.inference import predict as run_predict

    opts: dict[str, str] = {}
    for item in options or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise LtxError(f"--set takes key=value, not '{item}'.")
        opts[key.strip()] = value
    for result in run_predict(ckpt, list(inputs or []), output_dir, opts):
        typer.echo(json.dumps(result, default=str))
