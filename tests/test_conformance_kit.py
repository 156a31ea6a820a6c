"""The conformance kit, run on the example plugin (installed for real) and on broken or
unusual specs: a config the kit cannot find, and configs with required fields."""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from ltx_core import registry
from ltx_core.authoring.conformance import check_component, check_plugin
from ltx_core.registry.hookspecs import hookimpl

# A config a user must complete (a data file has no sensible default), with a preset.
REQUIRED = '''
from pydantic import Field
from ltx_core.config.models import LtxConfig

class FileConfig(LtxConfig):
    """Reads one file."""

    path: str = Field(description="The file to read (no default: the user gives it).")
    limit: int = Field(10, ge=1, description="Rows to read.")
    sep: str = Field(",", min_length=1, description="Field separator.")
'''


def test_example_plugin_conforms(installed_example: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(installed_example))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(installed_example), *sys.path]))
    registry.reset_registry()
    check_plugin("toy", tmp_path)


def _backbone(ltx_plugin: Callable[..., None], config: str, **defaults: object):
    """The spec of a backbone registered with ``config`` and the preset ``defaults``."""

    @hookimpl
    def register_backbones(register):
        register(
            "under-test", target="ltx_core.config.models:DataConfig", config=config,
            defaults=defaults,
        )  # fmt: skip

    ltx_plugin("under-test", types.SimpleNamespace(register_backbones=register_backbones))
    return registry.get_registry().get("backbone", "under-test")


def test_problems_are_reported(ltx_plugin) -> None:
    spec = _backbone(ltx_plugin, "ltx_core.config.models:Nope")
    with pytest.raises(Exception, match="does not exist"):
        check_component(spec)


@pytest.fixture
def file_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``module:attr`` of :data:`REQUIRED`'s model, importable for this test."""
    (tmp_path / "ltx_required_config.py").write_text(REQUIRED)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "ltx_required_config:FileConfig"


def test_a_required_field_is_accepted_and_nothing_is_invented(ltx_plugin, file_config) -> None:
    check_component(_backbone(ltx_plugin, file_config))
    check_component(_backbone(ltx_plugin, file_config, limit=3, sep=";"))  # a preset
    # A preset that gives the required value too: the whole config is built and checked.
    check_component(_backbone(ltx_plugin, file_config, path="data.csv"))


@pytest.mark.parametrize(
    ("preset", "says"),
    [
        ({"limit": 0}, "the default of 'limit' (0) is invalid: Input should be greater than"),
        ({"sep": ""}, "the default of 'sep' ('') is invalid"),
        ({"limt": 3}, "its preset sets keys the config does not have: ['limt']"),
        ({"path": "data.csv", "limit": 0}, "greater than or equal to 1"),
    ],
)
def test_a_bad_preset_of_a_config_with_a_required_field_is_named(
    ltx_plugin, file_config, preset: dict[str, object], says: str
) -> None:
    with pytest.raises(Exception) as raised:
        check_component(_backbone(ltx_plugin, file_config, **preset))
    assert says in str(raised.value), raised.value
