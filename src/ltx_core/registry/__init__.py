"""The registry: what plugins contribute, found through entry points and pluggy hooks.

``spec`` (lazy component records), ``hookspecs`` (the hooks a plugin implements),
``entry_points`` (the installed plugins, read without importlib.metadata) and ``store``
(the registry itself, one failure boundary per plugin). Torch-free.
"""

from __future__ import annotations

from ltx_core.registry.store import (
    API_ATTRIBUTE,
    ENTRY_POINT_GROUP,
    PLUGIN_API,
    PluginFailure,
    PluginInfo,
    Registry,
    add_plugin,
    entry_points,
    get_registry,
    remove_plugin,
    reset_registry,
)

__all__ = [
    "API_ATTRIBUTE",
    "ENTRY_POINT_GROUP",
    "PLUGIN_API",
    "PluginFailure",
    "PluginInfo",
    "Registry",
    "add_plugin",
    "entry_points",
    "get_registry",
    "remove_plugin",
    "reset_registry",
]
