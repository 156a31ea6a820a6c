"""pluggy hook specifications: one hook per kind of component a plugin contributes.

Each hook receives a ``register`` callback, so the core owns validation,
de-duplication and the record of who registered what.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "ltx"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[..., Any]


@hookspec
def register_tasks(register: Register) -> None:
    """Register tasks: ``register(name, target=..., config=..., summary=..., ...)``."""


@hookspec
def register_datasets(register: Register) -> None:
    """Register datasets (LightningDataModules that hand the model what it needs)."""


@hookspec
def register_backbones(register: Register) -> None:
    """Register backbones: factories ``(config, info) -> nn.Module``."""


@hookspec
def register_tokenizers(register: Register) -> None:
    """Register tokenizers: factories ``(config, info) -> tokenizer``."""
