"""ltx core: the plugin contracts, the registry, config models and the training glue.

The names plugin authors and users need are importable from here, lazily: importing
``ltx_core`` imports neither torch nor Lightning; ``from ltx_core import LtxTask`` does
(it is a LightningModule). Where each lives:

- contracts: ``LtxTask`` (:mod:`ltx_core.task`), ``LtxDataModule`` (:mod:`ltx_core.data`),
  ``HandOff`` / ``Restore`` / ``BuiltBackbone`` (:mod:`ltx_core.handoff`), ``LtxError``,
  ``DataPreview`` (what a task's ``preview`` hook returns, :mod:`ltx_core.preview`);
- config: ``LtxConfig``, ``TaskConfig``, ``DataConfig``, ... (:mod:`ltx_core.config.models`),
  ``RunRequest`` and ``resolve_config``;
- registry: ``hookimpl``, ``get_registry``, ``ComponentSpec``, ``TaskSpec``;
- running: ``train`` (:mod:`ltx_core.engine.training`), ``Predictor``
  (:mod:`ltx_core.inference.predictor`), ``load_checkpoint``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ltx_core._version import __version__
from ltx_core.compat import install_module_aliases

#: Public name -> the module that defines it.
_EXPORTS = {
    "LtxError": "ltx_core.errors",
    "did_you_mean": "ltx_core.errors",
    "HandOff": "ltx_core.handoff",
    "Restore": "ltx_core.handoff",
    "BuiltBackbone": "ltx_core.handoff",
    "LtxTask": "ltx_core.task",
    "LtxDataModule": "ltx_core.data",
    "DataPreview": "ltx_core.preview",
    "LtxConfig": "ltx_core.config.models",
    "TaskConfig": "ltx_core.config.models",
    "DataConfig": "ltx_core.config.models",
    "OptimizerConfig": "ltx_core.config.models",
    "SchedulerConfig": "ltx_core.config.models",
    "TrainerConfig": "ltx_core.config.models",
    "RunRequest": "ltx_core.config.request",
    "resolve_config": "ltx_core.config.resolve",
    "hookimpl": "ltx_core.registry.hookspecs",
    "get_registry": "ltx_core.registry.store",
    "ComponentSpec": "ltx_core.registry.spec",
    "TaskSpec": "ltx_core.registry.spec",
    "train": "ltx_core.engine.training",
    "Predictor": "ltx_core.inference.predictor",
    "load_checkpoint": "ltx_core.inference.loading",
}

__all__ = [
    "BuiltBackbone",
    "ComponentSpec",
    "DataConfig",
    "DataPreview",
    "HandOff",
    "LtxConfig",
    "LtxDataModule",
    "LtxError",
    "LtxTask",
    "OptimizerConfig",
    "Predictor",
    "Restore",
    "RunRequest",
    "SchedulerConfig",
    "TaskConfig",
    "TaskSpec",
    "TrainerConfig",
    "__version__",
    "did_you_mean",
    "get_registry",
    "hookimpl",
    "load_checkpoint",
    "resolve_config",
    "train",
]

install_module_aliases()


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ltx_core' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from ltx_core.config.models import (
        DataConfig,
        LtxConfig,
        OptimizerConfig,
        SchedulerConfig,
        TaskConfig,
        TrainerConfig,
    )
    from ltx_core.config.request import RunRequest
    from ltx_core.config.resolve import resolve_config
    from ltx_core.data import LtxDataModule
    from ltx_core.engine.training import train
    from ltx_core.errors import LtxError, did_you_mean
    from ltx_core.handoff import BuiltBackbone, HandOff, Restore
    from ltx_core.inference.loading import load_checkpoint
    from ltx_core.inference.predictor import Predictor
    from ltx_core.preview import DataPreview
    from ltx_core.registry.hookspecs import hookimpl
    from ltx_core.registry.spec import ComponentSpec, TaskSpec
    from ltx_core.registry.store import get_registry
    from ltx_core.task import LtxTask
