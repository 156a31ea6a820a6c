"""The options commands share: completion of component names, the run options that
select components and layer config (:func:`with_run_options`, giving a command a
:class:`~ltx_core.config.request.RunRequest`), and the dedicated flags as a config layer.

Plugins' commands use these too (``ltx sweep`` takes every option of ``ltx train``).
Nothing here imports torch: listing, describing and validating stay fast.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from ltx_core.config.request import RunRequest
from ltx_core.errors import LtxError

__all__ = [
    "AcceleratorOpt",
    "BackboneOpt",
    "ConfigOpt",
    "DatasetOpt",
    "DevicesOpt",
    "Overrides",
    "PrecisionOpt",
    "TaskArg",
    "TokenizerOpt",
    "complete",
    "flag_layer",
    "split_task",
    "with_run_options",
]

F = TypeVar("F", bound=Callable[..., Any])


def complete(kind: str) -> Callable[[str], list[str]]:
    """Shell completion of registered component names of one kind."""

    def names(incomplete: str) -> list[str]:
        from ltx_core.registry import get_registry

        try:
            return [n for n in get_registry().names(kind) if n.startswith(incomplete)]
        except Exception:
            return []

    return names


TaskArg = Annotated[
    str | None,
    typer.Argument(
        help="Task name (e.g. igpt); may come from --config.",
        show_default=False,
        autocompletion=complete("task"),
    ),
]
Overrides = Annotated[
    list[str] | None,
    typer.Argument(
        help="Config overrides: key.path=value (values parse as YAML).", show_default=False
    ),
]
DatasetOpt = Annotated[
    str | None, typer.Option("--dataset", help="Dataset name.", autocompletion=complete("dataset"))
]
BackboneOpt = Annotated[
    str | None,
    typer.Option("--backbone", help="Backbone name.", autocompletion=complete("backbone")),
]
TokenizerOpt = Annotated[
    str | None,
    typer.Option("--tokenizer", help="Tokenizer name.", autocompletion=complete("tokenizer")),
]
ConfigOpt = Annotated[
    str | None, typer.Option("--config", "-c", help="YAML config file (e.g. a run's config.yaml).")
]
GpusOpt = Annotated[
    int | None, typer.Option("--gpus", help="Train on N GPUs (= --accelerator gpu --devices N).")
]
AcceleratorOpt = Annotated[
    str | None, typer.Option("--accelerator", help="cpu, gpu, mps, tpu or auto.")
]
DevicesOpt = Annotated[
    str | None, typer.Option("--devices", help="Number of devices, ids like 0,1, or auto.")
]
StrategyOpt = Annotated[
    str | None, typer.Option("--strategy", help="Lightning strategy (ddp, ...).")
]
NumNodesOpt = Annotated[int | None, typer.Option("--num-nodes", help="Machines taking part.")]
PrecisionOpt = Annotated[
    str | None,
    typer.Option(
        "--precision",
        help="32-true, 16-mixed, bf16-mixed, ..., or auto (bf16-mixed where the hardware has "
        "fast bf16, else 32-true).",
    ),
]
InferencePrecisionOpt = Annotated[
    str | None,
    typer.Option(
        "--precision",
        help="32-true (the default), bf16-mixed, bf16-true, ..., or auto: bf16 autocast "
        "(bf16-mixed) where the hardware has fast bf16 and the model's matmuls are 256 or "
        "more wide, else 32-true.",
    ),
]
MaxEpochsOpt = Annotated[int | None, typer.Option("--max-epochs", help="Epochs to train.")]
MaxStepsOpt = Annotated[int | None, typer.Option("--max-steps", help="Optimizer steps to train.")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed.")]
OutputDirOpt = Annotated[
    str | None, typer.Option("--output-dir", "-o", help="Run directory (default: runs/TASK-TIME).")
]


def _run_parameters(
    task: TaskArg = None,
    overrides: Overrides = None,
    dataset: DatasetOpt = None,
    backbone: BackboneOpt = None,
    tokenizer: TokenizerOpt = None,
    config_file: ConfigOpt = None,
    gpus: GpusOpt = None,
    accelerator: AcceleratorOpt = None,
    devices: DevicesOpt = None,
    strategy: StrategyOpt = None,
    num_nodes: NumNodesOpt = None,
    precision: PrecisionOpt = None,
    max_epochs: MaxEpochsOpt = None,
    max_steps: MaxStepsOpt = None,
    seed: SeedOpt = None,
    output_dir: OutputDirOpt = None,
) -> RunRequest:
    """The one definition of the run options (their names, types and help)."""
    task, rest = split_task(task, overrides)
    flags = flag_layer(
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
    return RunRequest(task, rest, dataset, backbone, tokenizer, config_file, flags)


def with_run_options(func: F) -> F:
    """Give a command the run options: Typer sees them as its parameters (before the
    command's own), and the command receives them as ``run: RunRequest``."""
    own = inspect.signature(func)
    run_sig = inspect.signature(_run_parameters)
    run_hints = typing.get_type_hints(_run_parameters, include_extras=True)
    own_hints = typing.get_type_hints(func, include_extras=True)
    params = [p.replace(annotation=run_hints[p.name]) for p in run_sig.parameters.values()]
    # Keyword-only, so a command's required options (ltx sweep's --space) may follow the
    # run options' defaults.
    params += [
        p.replace(annotation=own_hints[p.name], kind=inspect.Parameter.KEYWORD_ONLY)
        for p in own.parameters.values()
        if p.name != "run"
    ]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        run_kwargs = {name: kwargs.pop(name) for name in run_sig.parameters}
        return func(run=_run_parameters(**run_kwargs), **kwargs)

    wrapper.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper  # type: ignore[return-value]


def split_task(task: str | None, overrides: list[str] | None) -> tuple[str | None, list[str]]:
    """``ltx train --config f.yaml a.b=1`` puts the first override where TASK would be."""
    rest = list(overrides or [])
    if task is not None and "=" in task:
        return None, [task, *rest]
    return task, rest


def flag_layer(
    *,
    gpus: int | None = None,
    accelerator: str | None = None,
    devices: str | None = None,
    strategy: str | None = None,
    num_nodes: int | None = None,
    precision: str | None = None,
    max_epochs: int | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
    output_dir: str | None = None,
) -> dict[str, Any]:
    """Dedicated flags as the top config layer."""
    trainer: dict[str, Any] = {}
    if gpus is not None:
        if gpus < 1:
            raise LtxError(f"--gpus must be at least 1, not {gpus}; use --accelerator cpu instead.")
        trainer.update(accelerator="gpu", devices=gpus)
    if accelerator is not None:
        trainer["accelerator"] = accelerator
    if devices is not None:
        trainer["devices"] = _parse_devices(devices)
    for key, value in (
        ("strategy", strategy),
        ("num_nodes", num_nodes),
        ("precision", precision),
        ("max_epochs", max_epochs),
        ("max_steps", max_steps),
    ):
        if value is not None:
            trainer[key] = value
    layer: dict[str, Any] = {"trainer": trainer} if trainer else {}
    if seed is not None:
        layer["seed"] = seed
    if output_dir is not None:
        layer["output_dir"] = output_dir
    return layer


def _parse_devices(text: str) -> int | str | list[int]:
    text = text.strip()
    if text == "auto":
        return text
    try:
        if "," in text:
            return [int(p) for p in text.split(",") if p.strip()]
        return int(text)
    except ValueError:
        raise LtxError(f"--devices takes a number, ids like 0,1, or auto, not '{text}'.") from None
