"""Every registered task gets a tiny CPU smoke run for free: train (its spec's ``smoke``
settings), then evaluate the checkpoint with ``ltx test``. Parametrised over the registry,
so a new plugin is covered without anyone writing a test for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ltx_core import registry
from ltx_core.resolve import resolve_config

from .conftest import example_registered


def _task_names() -> list[str]:
    with example_registered():
        return [spec.qualified_name for spec in registry.get_registry().components("task")]


@pytest.mark.parametrize("task", _task_names())
def test_every_task_smoke_trains_and_tests(task: str, example_plugin: None, tmp_path: Path) -> None:
    from ltx_core.inference import test as run_test
    from ltx_core.training import train

    spec = registry.get_registry().get("task", task)
    quiet = {"trainer": {"accelerator": "cpu", "devices": 1, "enable_progress_bar": False}}
    resolved = resolve_config(
        task, config_data={**spec.smoke, "output_dir": str(tmp_path / "run")},
        flags=quiet,
    )  # fmt: skip
    run_dir = train(resolved)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["global_step"] > 0
    assert any(k.startswith(("val_", "test_")) for k in summary["metrics"]), summary["metrics"]
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    metrics = run_test(ckpt, accelerator="cpu")
    assert metrics and all(k.startswith("test_") for k in metrics)
