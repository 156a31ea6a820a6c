"""The ``ltx`` entry point of ltx-serve: contributes the ``serve`` command.

Torch-free and server-free: ``ltx --help`` imports this module and nothing heavier;
the command's module is imported only when ``ltx serve`` runs.
"""

from __future__ import annotations

from ltx_core.registry.hookspecs import RegisterCommand, hookimpl

#: The ltx plugin API this plugin is written for (ltx-core checks it before loading).
LTX_PLUGIN_API = 1


@hookimpl
def register_commands(register: RegisterCommand) -> None:
    """``ltx serve``."""
    register(
        "serve",
        target="ltx_serve.command:serve",
        help="Serve a checkpoint over HTTP: POST /predict, GET /health, GET /info.",
    )
