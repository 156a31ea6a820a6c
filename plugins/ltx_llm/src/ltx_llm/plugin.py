"""The ``ltx`` entry point of ltx-llm: hands its catalogue (``catalogue.py``) to the core.

Torch-free and transformers-free on purpose: ``ltx list`` and ``ltx --help`` import this
module and nothing heavier.
"""

from __future__ import annotations

from ltx_core.registry.hookspecs import (
    RegisterCommand,
    RegisterComponent,
    RegisterTask,
    hookimpl,
)
from ltx_llm.catalogue import BACKBONES, DATASETS, TASKS

#: The ltx plugin API this plugin is written for (ltx-core checks it before loading).
LTX_PLUGIN_API = 1

__all__ = ["register_backbones", "register_commands", "register_datasets", "register_tasks"]


@hookimpl
def register_tasks(register: RegisterTask) -> None:
    """Register the chat and preference tasks."""
    for spec in TASKS:
        register(spec.name, **spec.registration())


@hookimpl
def register_datasets(register: RegisterComponent) -> None:
    """Register the conversation datasets."""
    for spec in DATASETS:
        register(spec.name, **spec.registration())


@hookimpl
def register_backbones(register: RegisterComponent) -> None:
    """Register SmolLM2-135M-Instruct, any causal LM, and the tiny random Llama."""
    for spec in BACKBONES:
        register(spec.name, **spec.registration())


@hookimpl
def register_commands(register: RegisterCommand) -> None:
    """``ltx chat``."""
    register(
        "chat",
        target="ltx_llm.command:chat",
        help="Chat with a model in the terminal (streamed answers, history, /reset).",
    )
