"""Every registered task gets a tiny CPU smoke run for free: the conformance kit's
``check_task_runs`` (its spec's ``smoke`` settings: train, then ``ltx test`` and
``ltx predict`` from the checkpoint alone). Parametrised over the registry, so a new
plugin is covered without anyone writing a test for it."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from ltx_core import registry
from ltx_core.authoring.conformance import check_task_runs

from .conftest import example_registered


def _task_names() -> list[str]:
    with example_registered():
        return [spec.qualified_name for spec in registry.get_registry().components("task")]


@pytest.mark.parametrize("task", _task_names())
def test_every_task_smoke_trains_and_tests(task: str, example_plugin: None, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        # Our plugins are on the current API: none of its deprecation warnings may fire.
        warnings.filterwarnings(
            "error", message=r".*(migration notes|is deprecated;)", category=DeprecationWarning
        )
        summary = check_task_runs(registry.get_registry().task(task), tmp_path)
    assert any(k.startswith(("val_", "test_")) for k in summary["metrics"]), summary["metrics"]
