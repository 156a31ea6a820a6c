"""The ``ltx`` entry point of ltx-sweep: contributes the ``sweep`` command.

Torch-free and Optuna-free: ``ltx --help`` imports this module and nothing heavier;
the command's module is imported only when ``ltx sweep`` runs.
"""

from __future__ import annotations

from ltx_core.registry.hookspecs import RegisterCommand, hookimpl

#: The ltx plugin API this plugin is written for (ltx-core checks it before loading).
LTX_PLUGIN_API = 1


@hookimpl
def register_commands(register: RegisterCommand) -> None:
    """``ltx sweep``."""
    register(
        "sweep",
        target="ltx_sweep.command:sweep",
        help="Search a task's config with Optuna; each trial is a run directory.",
    )
