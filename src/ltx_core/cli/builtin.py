"""The core's own commands, registered through the same hook as any plugin's.

The registry loads this module first, as the built-in plugin ``ltx``; each command is
a ``"module:attr"`` imported only when it runs, so ``ltx --help`` imports none of them.
The order here is the order of ``ltx --help``.
"""

from __future__ import annotations

from ltx_core.registry.hookspecs import RegisterCommand, hookimpl
from ltx_core.registry.store import PLUGIN_API

LTX_PLUGIN_API = PLUGIN_API

_CMD = "ltx_core.cli.commands"


@hookimpl
def register_commands(register: RegisterCommand) -> None:
    """The core's subcommands."""
    register(
        "list",
        target=f"{_CMD}.components:list_components",
        help="List the registered tasks, datasets, backbones and tokenizers.",
    )
    register(
        "plugins",
        target=f"{_CMD}.plugins:list_plugins",
        help="List the installed plugins, what each registers, and those that failed.",
    )
    register(
        "info",
        target=f"{_CMD}.info:info",
        help="Describe a component: plugin, summary, what it fits and its config fields.",
    )
    register(
        "config",
        target=f"{_CMD}.config:config",
        help="Print the resolved config as YAML; validates only, trains nothing.",
    )
    register(
        "train",
        target=f"{_CMD}.train:train",
        help="Train a task; writes config.yaml, metrics.csv, checkpoints/ and summary.json.",
    )
    register(
        "test",
        target=f"{_CMD}.test:test",
        help="Evaluate a checkpoint (--ckpt) on its test split, or a model ltx did not train.",
    )
    register(
        "predict",
        target=f"{_CMD}.predict:predict",
        help="Predict from a checkpoint: inputs as arguments or every row of --input.",
    )
    register(
        "data",
        target=f"{_CMD}.data:data_app",
        help="Look at a run's data: 'ltx data preview TASK' shows examples as the model sees them.",
    )
    register(
        "runs",
        target=f"{_CMD}.runs:runs",
        help="A table of the runs under a folder: task, data, backbone, metrics, status.",
    )
    register(
        "compare",
        target=f"{_CMD}.compare:compare",
        help="Runs side by side: config differences, final metrics, curves in a PNG.",
    )
    register(
        "doctor",
        target=f"{_CMD}.doctor:doctor",
        help="Why it works here or not: versions, accelerators, plugins and their status.",
    )
    register(
        "new",
        target=f"{_CMD}.new:new_app",
        help="Scaffold a plugin: 'ltx new plugin|dataset|backbone|command NAME'.",
    )
