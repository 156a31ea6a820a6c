"""Lazy component specs: what a plugin registers instead of classes.

A spec names its implementation and its pydantic config model as
``"module:attr"`` strings, so listing and validating never import torch. Tasks
get a spec type of their own (:class:`TaskSpec`) for the fields only a task has.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from ltx_core.errors import PluginError

__all__ = ["KINDS", "CommandSpec", "ComponentSpec", "Kind", "TaskSpec", "load_object"]

Kind = Literal["task", "dataset", "backbone", "tokenizer"]
KINDS: tuple[Kind, ...] = ("task", "dataset", "backbone", "tokenizer")


def load_object(ref: str) -> Any:
    """Import ``"package.module:attr"`` and return the attribute."""
    module_name, _, attr = ref.partition(":")
    module_name, attr = module_name.strip(), attr.strip()
    if not module_name:
        raise ValueError(f"'{ref}' is not of the form 'package.module:attr'.")
    obj: Any = importlib.import_module(module_name)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class ComponentSpec:
    """One registered dataset, backbone or tokenizer (tasks: :class:`TaskSpec`).

    ``target`` builds the component: for a dataset, a ``LtxDataModule`` subclass;
    for a backbone, a factory ``(config, data, *, request, restore)``; for a tokenizer,
    ``(config, *, backbone, restore)``
    (see :mod:`ltx_core.handoff`). ``config`` is its pydantic model. ``defaults`` are
    preset values layered over the model's own defaults (the way ``igpt-s`` and
    ``igpt-m`` share one model). ``fits`` lists the tasks it works with (empty: any).
    """

    name: str
    kind: Kind
    target: str
    config: str
    summary: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    fits: tuple[str, ...] = ()
    # Filled in by the registry, not by plugins.
    plugin: str = ""
    distribution: str = ""
    version: str = ""

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin}:{self.name}" if self.plugin else self.name

    def load_target(self) -> Any:
        """Import the implementation."""
        return _load(self, self.target, "implementation")

    def load_config(self) -> Any:
        """Import the config model."""
        return _load(self, self.config, "config model")

    def registration(self) -> dict[str, Any]:
        """The keyword fields of ``register(name, **fields)`` that make this spec again: a
        plugin may keep its catalogue as specs and hand each to ``register``."""
        filled = {"name", "kind", "plugin", "distribution", "version"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in filled}

    def to_dict(self) -> dict[str, Any]:
        """The spec as ``ltx list --json`` prints it."""
        return {
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


@dataclass(frozen=True)
class TaskSpec(ComponentSpec):
    """A registered task: a ``LtxTask`` subclass, its config, and what it runs with.

    ``default_dataset`` / ``default_backbone`` / ``default_tokenizer`` name the
    components used when the user picks none; ``task_defaults`` are values for any
    section of the run (those for ``dataset``, ``backbone`` and ``tokenizer`` apply
    only to the default component of that section); ``smoke`` is a partial run config
    for a tiny CPU run (the registry-wide smoke test and the conformance kit use it);
    ``examples`` are inputs for ``ltx predict`` (used when it is given none);
    ``predict_options`` is the ``"module:attr"`` of the task's typed prediction options
    (the model its class sets as ``predict_options``), so ``ltx info`` lists them without
    importing the task.
    """

    default_dataset: str | None = None
    default_backbone: str | None = None
    default_tokenizer: str | None = None
    task_defaults: dict[str, Any] = field(default_factory=dict)
    smoke: dict[str, Any] = field(default_factory=dict)
    examples: tuple[str, ...] = ()
    predict_options: str = ""

    def load_predict_options(self) -> Any:
        """Import the prediction options model (``None`` when the spec names none)."""
        return (
            _load(self, self.predict_options, "predict options model")
            if self.predict_options
            else None
        )

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["default_dataset"] = self.default_dataset
        out["default_backbone"] = self.default_backbone
        out["default_tokenizer"] = self.default_tokenizer
        out["examples"] = list(self.examples)
        out["predict_options"] = self.predict_options
        return out


@dataclass(frozen=True)
class CommandSpec:
    """A registered subcommand of ``ltx``: its name, one line of help and the
    ``"module:attr"`` of its Typer command (or ``typer.Typer`` group), imported only when
    the command runs."""

    name: str
    target: str
    help: str = ""
    plugin: str = ""
    distribution: str = ""
    version: str = ""
    kind: str = "command"

    def load_target(self) -> Any:
        """Import the command (a function or a ``typer.Typer``)."""
        return _load(self, self.target, "implementation")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "help": self.help,
            "target": self.target,
        }


def _load(spec: ComponentSpec | CommandSpec, ref: str, what: str) -> Any:
    """Import a spec's ``module:attr``; a failure is the plugin's, named with its version."""
    dist = " ".join(p for p in (spec.distribution, spec.version) if p)
    owner = f"plugin '{spec.plugin}'" + (f" ({dist})" if dist else "") if spec.plugin else ""
    who = f"{spec.kind} '{spec.name}'" + (f" of {owner}" if owner else "")
    module_name = ref.partition(":")[0].strip()
    own_top = module_name.split(".")[0]
    fix = f"reinstall '{spec.distribution or own_top}', or report it to its authors"
    try:
        return load_object(ref)
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        if missing == module_name:
            # The registration names a module that is not there: a typo in the plugin's
            # own string, not a missing dependency, so "pip install" would not help.
            raise PluginError(
                f"The {who} names the module '{missing}' as its {what}, which does not "
                f"exist; {fix}."
            ) from None
        if missing.split(".")[0] == own_top:
            raise PluginError(
                f"The {what} of the {who} imports '{missing}', which does not exist in its "
                f"own package; {fix}."
            ) from None
        raise PluginError(
            f"The {what} of the {who} needs the module '{missing}', which is not installed "
            f"(the plugin does not declare it); install the package that provides "
            f"'{missing}', or {fix}."
        ) from None
    except ImportError as exc:
        raise PluginError(f"The {what} of the {who} failed to import ({exc}); {fix}.") from None
    except AttributeError as exc:
        raise PluginError(
            f"The {what} '{ref}' of the {who} does not exist ({exc}); {fix}."
        ) from None
