"""Lazy component specs: what a plugin registers instead of classes.

A spec names its implementation and its pydantic config model as
``"module:attr"`` strings, so listing and validating never import torch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Literal

from ltx_core.errors import LtxError

__all__ = ["KINDS", "ComponentSpec", "Kind", "load_object"]

Kind = Literal["task", "dataset", "backbone", "tokenizer"]
KINDS: tuple[str, ...] = ("task", "dataset", "backbone", "tokenizer")


def load_object(ref: str) -> Any:
    """Import ``"package.module:attr"`` and return the attribute."""
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise ValueError(f"'{ref}' is not of the form 'package.module:attr'.")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class ComponentSpec:
    """One registered component.

    ``target`` builds the component: for a task, a ``LtxTask`` subclass; for a
    dataset, a ``LtxDataModule`` subclass; for a backbone or tokenizer, a
    callable ``(config, info) -> object``. ``config`` is its pydantic model.
    ``defaults`` are preset values layered over the model's own defaults (the
    way ``igpt-s`` and ``igpt-m`` share one model). A task's ``fits`` names its
    default dataset, backbone and tokenizer; a dataset's, backbone's or
    tokenizer's ``fits`` lists the tasks it works with (empty: any).
    """

    name: str
    kind: Kind
    target: str
    config: str
    summary: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    fits: tuple[str, ...] = ()
    # Only for tasks: default component names and defaults for other sections.
    default_dataset: str | None = None
    default_backbone: str | None = None
    default_tokenizer: str | None = None
    task_defaults: dict[str, Any] = field(default_factory=dict)
    # Only for tasks: a partial run config that makes a tiny CPU smoke run
    # (the registry-wide smoke test and the conformance kit use it).
    smoke: dict[str, Any] = field(default_factory=dict)
    # Only for tasks: sample inputs for ``ltx predict`` (the conformance kit uses them;
    # empty means the task predicts from its dataset when given no inputs).
    examples: tuple[str, ...] = ()
    # Filled in by the registry, not by plugins.
    plugin: str = ""
    distribution: str = ""
    version: str = ""

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin}:{self.name}" if self.plugin else self.name

    def load_target(self) -> Any:
        return _load(self, self.target, "implementation")

    def load_config(self) -> Any:
        return _load(self, self.config, "config model")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "summary": self.summary,
            "target": self.target,
            "config": self.config,
            "fits": list(self.fits),
        }
        if self.kind == "task":
            out["default_dataset"] = self.default_dataset
            out["default_backbone"] = self.default_backbone
            out["default_tokenizer"] = self.default_tokenizer
        return out


def _load(spec: ComponentSpec, ref: str, what: str) -> Any:
    try:
        return load_object(ref)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        raise LtxError(
            f"The {spec.kind} '{spec.name}' needs '{missing}', which is not installed; "
            f"try 'pip install {spec.distribution or missing}'."
        ) from exc
    except AttributeError as exc:
        raise LtxError(
            f"The {what} '{ref}' of {spec.kind} '{spec.name}' (plugin '{spec.plugin}') "
            f"does not exist: {exc}."
        ) from exc
