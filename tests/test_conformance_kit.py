"""The conformance kit, run on the example plugin (installed for real) and on a broken spec."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest

from ltx_core import registry
from ltx_core.authoring.conformance import check_component, check_plugin
from ltx_core.registry.hookspecs import hookimpl


def test_example_plugin_conforms(installed_example: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(installed_example))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(installed_example), *sys.path]))
    registry.reset_registry()
    check_plugin("toy", tmp_path)


def test_problems_are_reported(tmp_path: Path) -> None:
    @hookimpl
    def register_backbones(register):
        register(
            "no-such",
            target="ltx_core.config.models:DataConfig",
            config="ltx_core.config.models:Nope",
        )

    registry.add_plugin("sloppy", types.SimpleNamespace(register_backbones=register_backbones))
    try:
        spec = registry.get_registry().get("backbone", "no-such")
        with pytest.raises(Exception, match="does not exist"):
            check_component(spec)
    finally:
        registry.remove_plugin("sloppy")
