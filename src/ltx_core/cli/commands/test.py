"""``ltx test``: score a checkpoint on its test split (``--ckpt``), or a model ltx did not
train (``TASK --backbone hf ...``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ltx_core.cli import options as c
from ltx_core.cli.boundary import error_boundary, out
from ltx_core.config.request import RunRequest
from ltx_core.errors import LtxError


@error_boundary
def test(
    task: c.TaskArg = None,
    overrides: c.Overrides = None,
    ckpt: Annotated[
        str | None,
        typer.Option(
            "--ckpt", help="An ltx checkpoint (.ckpt); without it, TASK and its selectors."
        ),
    ] = None,
    dataset: c.DatasetOpt = None,
    backbone: c.BackboneOpt = None,
    tokenizer: c.TokenizerOpt = None,
    config_file: c.ConfigOpt = None,
    accelerator: Annotated[str, typer.Option("--accelerator", help="cpu, gpu or auto.")] = "auto",
    precision: c.InferencePrecisionOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Evaluate a checkpoint (--ckpt) on its dataset's test split, or a model ltx did not
    train (TASK --backbone hf backbone.pretrained_model_name_or_path=DIR --dataset ...)."""
    task, rest = c.split_task(task, overrides)
    if ckpt is not None:
        from ltx_core.inference.evaluation import test_checkpoint

        chosen = [f"'{v}'" for v in (task, dataset, backbone, tokenizer, config_file) if v]
        if chosen:
            raise LtxError(
                f"--ckpt carries its own task and components; drop {', '.join(chosen)} "
                "(key.path=value overrides still apply)."
            )
        metrics = test_checkpoint(ckpt, rest, accelerator=accelerator, precision=precision)
    else:
        if task is None and config_file is None:
            raise LtxError(
                "Give --ckpt CHECKPOINT, or a TASK with the model to score "
                "(e.g. ltx test text-classification --backbone hf "
                "backbone.pretrained_model_name_or_path=DIR --dataset NAME)."
            )
        from ltx_core.inference.evaluation import asked_precision, evaluate

        run = RunRequest(
            task,
            rest,
            dataset,
            backbone,
            tokenizer,
            config_file,
            c.flag_layer(accelerator=accelerator, precision=precision),
        )
        metrics = evaluate(run.resolve(), precision=precision or asked_precision(rest))
    if as_json:
        out(json.dumps(metrics, indent=2))
    else:
        for key, value in sorted(metrics.items()):
            typer.echo(f"{key}\t{value:.4f}")
