"""``trainer.strategy``: a Lightning strategy by name (``ddp``, ``fsdp``,
``deepspeed_stage_2``, ...) or by class path with its options, checked before a run starts.

``trainer.strategy: {class_path: FSDPStrategy, init_args: {...}}`` follows the convention
of ``trainer.callbacks``; short class names are Lightning's own strategies. Options that
Lightning takes as Python objects are written in YAML as class paths:
``auto_wrap_policy`` and ``activation_checkpointing_policy`` as a list of module classes
(``[ltx_vision_igpt.model.Block]``), turned into the set Lightning expects.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from ltx_core.config.models import ClassSpec
from ltx_core.errors import LtxError

__all__ = ["build_strategy", "check_strategy", "strategy_name"]

#: Where short class names in trainer.strategy are looked up.
SHORT = "pytorch_lightning.strategies"
#: FSDP options that name module classes (a YAML list of class paths -> a set of classes).
MODULE_SET_OPTIONS = ("auto_wrap_policy", "activation_checkpointing_policy")


def strategy_name(strategy: str | ClassSpec) -> str:
    """A lower-case name to recognise the strategy family by (``fsdp``, ``deepspeed``...)."""
    if isinstance(strategy, ClassSpec):
        return strategy.class_path.rpartition(".")[2].lower().removesuffix("strategy")
    return strategy.lower()


def check_strategy(strategy: str | ClassSpec, cuda: bool) -> None:
    """Refuse a strategy this machine cannot run, with one sentence: FSDP and DeepSpeed
    shard a model across CUDA GPUs, and DeepSpeed must be installed."""
    name = strategy_name(strategy)
    family = "FSDP" if name.startswith("fsdp") else "DeepSpeed" if "deepspeed" in name else None
    if family is None:
        return
    shown = strategy if isinstance(strategy, str) else strategy.class_path
    if not cuda:
        raise LtxError(
            f"The strategy '{shown}' ({family}) shards the model across CUDA GPUs and this "
            "machine has none; on CPUs use --strategy ddp."
        )
    if family == "DeepSpeed" and importlib.util.find_spec("deepspeed") is None:
        raise LtxError(
            f"The strategy '{shown}' needs DeepSpeed; install it: pip install deepspeed."
        )
    if isinstance(strategy, ClassSpec) and strategy.init_args.get("state_dict_type") == "sharded":
        raise LtxError(
            "trainer.strategy: state_dict_type 'sharded' writes checkpoints as folders of shards "
            "that ltx test, predict and --resume cannot read on one device; use 'full'."
        )


def _import(path: str, what: str) -> Any:
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module or SHORT), name)
    except (ImportError, AttributeError, ValueError):
        raise LtxError(
            f"trainer.strategy: cannot import the {what} '{path}' (short names are Lightning's "
            "own strategies, e.g. DDPStrategy or FSDPStrategy)."
        ) from None


def build_strategy(strategy: str | ClassSpec) -> Any:
    """What Lightning's ``Trainer(strategy=...)`` gets: the name as it is, or the class
    built from its class path and options."""
    if isinstance(strategy, str):
        return strategy
    cls = _import(strategy.class_path, "strategy")
    kwargs = dict(strategy.init_args)
    for option in MODULE_SET_OPTIONS:
        value = kwargs.get(option)
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            kwargs[option] = {_import(p, f"module class of {option}") for p in value}
    try:
        return cls(**kwargs)
    except Exception as exc:  # the strategy's own checks of its arguments
        raise LtxError(
            f"trainer.strategy: {strategy.class_path}({strategy.init_args}) failed: {exc}"
        ) from None
