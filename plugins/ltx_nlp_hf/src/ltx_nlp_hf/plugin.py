"""The ``ltx`` entry point of ltx-nlp-hf: hands its catalogue (``catalogue.py``) to the
core as lazy specs.

Torch-free and transformers-free on purpose: ``ltx list`` and ``ltx --help`` import
this module and nothing heavier. Targets and config models are ``"module:attr"``
strings, loaded only when a component is built.
"""

from __future__ import annotations

from ltx_core.registry.hookspecs import RegisterComponent, RegisterTask, hookimpl
from ltx_nlp_hf.catalogue import BACKBONES, DATASETS, PKG, TASKS

#: The ltx plugin API this plugin is written for (ltx-core checks it before loading).
LTX_PLUGIN_API = 1

__all__ = ["register_backbones", "register_datasets", "register_tasks", "register_tokenizers"]


@hookimpl
def register_tasks(register: RegisterTask) -> None:
    """Register the eight NLP tasks."""
    for spec in TASKS:
        register(spec.name, **spec.registration())


@hookimpl
def register_datasets(register: RegisterComponent) -> None:
    """Register the file-based, hub and packaged-sample datasets."""
    for spec in DATASETS:
        register(spec.name, **spec.registration())


@hookimpl
def register_backbones(register: RegisterComponent) -> None:
    """Register the Hugging Face backbones and the tiny random ones."""
    for spec in BACKBONES:
        register(spec.name, **spec.registration())


@hookimpl
def register_tokenizers(register: RegisterComponent) -> None:
    """Register the AutoTokenizer factory."""
    register(
        "hf-auto",
        target=f"{PKG}.tokenizers:build_auto_tokenizer",
        config=f"{PKG}.config:HFTokenizerConfig",
        summary="AutoTokenizer; follows the backbone's model name unless given its own.",
    )
