"""ltx core: the plugin registry, the typed hand-off, config models and the training glue.

Importing this package is cheap; the torch-bound modules (``ltx_core.data``,
``ltx_core.task``, ``ltx_core.engine.training``) load only when imported.
"""

from __future__ import annotations

from ltx_core.errors import LtxError
from ltx_core.registry import get_registry
from ltx_core.registry.hookspecs import hookimpl
from ltx_core.registry.spec import ComponentSpec

__version__ = "0.1.0"
__all__ = ["ComponentSpec", "LtxError", "__version__", "get_registry", "hookimpl"]
