"""pluggy hook specifications: one hook per kind of component a plugin contributes.

Each hook receives a ``register`` callback, so the core owns validation,
de-duplication and the record of who registered what. ``register`` takes the
component's name and keyword fields only; :class:`RegisterTask`,
:class:`RegisterComponent` and :class:`RegisterCommand` spell out its signature for each
kind. The core's own commands come through :func:`register_commands` too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import pluggy

__all__ = [
    "PROJECT",
    "RegisterCommand",
    "RegisterComponent",
    "RegisterTask",
    "hookimpl",
    "hookspec",
]

PROJECT = "ltx"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class RegisterComponent(Protocol):
    """``register`` as the dataset, backbone and tokenizer hooks receive it."""

    def __call__(
        self,
        name: str,
        *,
        target: str,
        config: str,
        summary: str = "",
        defaults: Mapping[str, Any] = ...,
        fits: Iterable[str] = (),
    ) -> None:
        """Register one component.

        Args:
            name: The name users type (``--dataset NAME``); unique within the plugin.
            target: ``"package.module:attr"`` of the implementation: a ``LtxDataModule``
                subclass for a dataset; a factory ``(config, data, *, request, restore)``
                for a backbone (see :mod:`ltx_core.handoff`); a factory
                ``(config, *, backbone, restore)`` for a tokenizer, where ``backbone`` is
                the run's backbone config (a tokenizer often shares its model name).
            config: ``"package.module:Model"`` of its pydantic config model (subclass
                ``LtxConfig``, or ``DataConfig`` for datasets).
            summary: One line for ``ltx list``.
            defaults: A preset layered over the config model's own defaults.
            fits: The task names it works with (empty: any task).
        """


class RegisterTask(Protocol):
    """``register`` as the task hook receives it: the component fields and the task's."""

    def __call__(
        self,
        name: str,
        *,
        target: str,
        config: str,
        summary: str = "",
        defaults: Mapping[str, Any] = ...,
        fits: Iterable[str] = (),
        default_dataset: str | None = None,
        default_backbone: str | None = None,
        default_tokenizer: str | None = None,
        task_defaults: Mapping[str, Any] = ...,
        smoke: Mapping[str, Any] = ...,
        examples: Iterable[str] = (),
        predict_options: str = "",
    ) -> None:
        """Register one task.

        Args:
            name: The name users type (``ltx train NAME``).
            target: ``"package.module:Class"`` of its ``LtxTask`` subclass.
            config: ``"package.module:Model"`` of its config model (subclass ``TaskConfig``).
            summary: One line for ``ltx list``.
            defaults: A preset for the task section.
            fits: Unused for tasks (kept for symmetry).
            default_dataset: The dataset used when the user names none.
            default_backbone: The backbone used when the user names none.
            default_tokenizer: The tokenizer used when the user names none.
            task_defaults: Values for any section of the run, e.g.
                ``{"optimizer": {"lr": 1e-4}, "trainer": {"max_epochs": 3}}``; those for
                ``dataset`` / ``backbone`` / ``tokenizer`` apply to the default one only.
            smoke: A partial run config for a tiny CPU run (conformance kit, smoke tests).
            examples: Inputs ``ltx predict`` uses when it is given none.
            predict_options: ``"package.module:Model"`` of the task's typed prediction
                options (the model its class sets as ``predict_options``), so ``ltx info``
                lists them without importing the task.
        """


class RegisterCommand(Protocol):
    """``register`` as the command hook receives it."""

    def __call__(self, name: str, *, target: str, help: str) -> None:
        """Register one subcommand of ``ltx``.

        Args:
            name: What users type after ``ltx`` (``ltx NAME ...``); one word.
            target: ``"package.module:attr"`` of a Typer command function (its parameters,
                annotated with ``typer.Option`` / ``typer.Argument``, are the command's) or
                of a ``typer.Typer`` holding subcommands. Imported only when the command
                runs, so keep heavy imports out of that module's top level too.
            help: One line for ``ltx --help``, shown without importing ``target``.
        """


@hookspec
def register_tasks(register: RegisterTask) -> None:
    """Register tasks: ``register(name, target=..., config=..., summary=..., ...)``."""


@hookspec
def register_datasets(register: RegisterComponent) -> None:
    """Register datasets (``LtxDataModule`` subclasses that hand the model what it needs)."""


@hookspec
def register_backbones(register: RegisterComponent) -> None:
    """Register backbones: factories ``(config, data, *, request, restore) -> nn.Module``."""


@hookspec
def register_tokenizers(register: RegisterComponent) -> None:
    """Register tokenizers: factories ``(config, *, backbone, restore) -> tokenizer``."""


@hookspec
def register_commands(register: RegisterCommand) -> None:
    """Register subcommands of ``ltx``: ``register(name, target="pkg.cli:command", help=...)``."""
