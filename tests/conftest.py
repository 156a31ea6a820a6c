"""The core's suite runs on ltx's pytest plugin (``ltx_core.cli.testing``: ``ltx_env``,
``ltx_cli``, ``ltx_train``, ``run_ltx``, ...); here only what is this repository's own:
the example third-party plugin and the v2-API demo plugin, registered in-process or
really installed."""

from __future__ import annotations

import contextlib
import importlib
import os

# Before torch loads: idle OpenMP workers sleep instead of spinning, so small ops do
# not stall for ~30 ms when another process holds a core (a shared 2-core CI machine).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ltx_core import registry
from ltx_core.cli.testing import pip_install

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "example_plugin"
SUPPORT = ROOT / "tests" / "support"
# The two plugins of this suite as (name, module, distribution, version), the form
# ``ltx_plugin`` and a fresh process (``run_ltx(..., path=[SUPPORT], plugins=[DEMO])``) take.
#: The v2-API demo plugin, importable from SUPPORT: a task that trains in a second.
DEMO = ("demo", "ltx_demo_v2", "ltx-demo-v2", "2.0.0")
#: The example plugin (``ltx new plugin toy``), importable from EXAMPLE / "src".
TOY = ("toy", "ltx_toy.plugin", "ltx-toy", "0.1.0")
# Frozen plugins of the 0.1 API (tests/compat/README.md); test_compat.py runs them. The
# example's own tests/test_ltx_toy.py needs it installed (test_conformance_kit.py does that).
collect_ignore = ["compat", "example_plugin"]


@pytest.fixture(autouse=True)
def _ltx(ltx_env: Path) -> Iterator[None]:
    """Every test in its own folder, with a fresh registry and no plugin env vars."""
    yield


@contextlib.contextmanager
def registered(folder: Path, plugin: tuple[str, str, str, str]) -> Iterator[None]:
    """``plugin`` (:data:`DEMO`, :data:`TOY`), its module imported from ``folder``,
    registered in this process until the block ends: for code outside a test (collection,
    a module-scoped fixture); a test takes ``demo_plugin`` / ``example_plugin``."""
    name, module, distribution, version = plugin
    sys.path.insert(0, str(folder))
    try:
        registry.add_plugin(name, importlib.import_module(module), distribution, version)
        yield
    finally:
        registry.remove_plugin(name)
        sys.path.remove(str(folder))


def example_registered() -> contextlib.AbstractContextManager[None]:
    """The example plugin (``ltx new plugin toy``), registered without installing it."""
    return registered(EXAMPLE / "src", TOY)


def demo_registered() -> contextlib.AbstractContextManager[None]:
    """The v2-API demo plugin (tests/support/ltx_demo_v2.py), registered in-process."""
    return registered(SUPPORT, DEMO)


def _add(ltx_plugin: Callable[..., None], monkeypatch: pytest.MonkeyPatch, folder: Path,
         plugin: tuple[str, str, str, str]) -> None:  # fmt: skip
    name, module, distribution, version = plugin
    monkeypatch.syspath_prepend(str(folder))
    ltx_plugin(name, importlib.import_module(module), distribution, version)


@pytest.fixture
def demo_plugin(ltx_plugin: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo plugin, registered for this test."""
    _add(ltx_plugin, monkeypatch, SUPPORT, DEMO)


@pytest.fixture(scope="session")
def _toy_metadata(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the example's distribution metadata alone (no entry point, so the
    plugin is not discovered twice): on sys.path, a run of the in-process plugin records
    the version of ``ltx-toy`` as it would for the installed one."""
    name, _, distribution, version = TOY
    info = tmp_path_factory.mktemp("toy-metadata") / f"ltx_{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8"
    )
    return info.parent


@pytest.fixture
def example_plugin(
    ltx_plugin: Callable[..., None], monkeypatch: pytest.MonkeyPatch, _toy_metadata: Path
) -> None:
    """The example plugin, registered for this test (not installed)."""
    monkeypatch.syspath_prepend(str(_toy_metadata))
    _add(ltx_plugin, monkeypatch, EXAMPLE / "src", TOY)


@pytest.fixture(scope="session")
def installed_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin really pip-installed (a wheel build) into a folder of its own;
    put that folder on PYTHONPATH (``path=``) to see it as a third-party distribution."""
    return pip_install(EXAMPLE, tmp_path_factory.mktemp("site"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``@pytest.mark.gpu`` tests skip cleanly without a CUDA GPU (``pytest -m gpu`` selects
    them on a machine that has one)."""
    gpu_tests = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_tests:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
    for item in gpu_tests:
        item.add_marker(skip)
