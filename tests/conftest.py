"""Shared fixtures: the example third-party plugin registered in-process, a CLI runner,
and helpers to run ``ltx`` in a fresh process."""

from __future__ import annotations

import contextlib
import os

# Before torch loads: idle OpenMP workers sleep instead of spinning, so small ops do
# not stall for ~30 ms when another process holds a core (a shared 2-core CI machine).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ltx_core import registry

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "example_plugin"
# Frozen plugins of the 0.1 API (tests/compat/README.md); test_compat.py runs them. The
# example's own tests/test_plugin.py needs it installed (test_conformance_kit.py does that).
collect_ignore = ["compat", "example_plugin"]


@contextlib.contextmanager
def example_registered() -> Iterator[None]:
    """The example plugin (``ltx new plugin toy``), registered without installing it."""
    sys.path.insert(0, str(EXAMPLE / "src"))
    import ltx_toy.plugin as plugin

    registry.add_plugin("toy", plugin, "ltx-toy", "0.1.0")
    try:
        yield
    finally:
        registry.remove_plugin("toy")
        sys.path.remove(str(EXAMPLE / "src"))


SUPPORT = ROOT / "tests" / "support"


@contextlib.contextmanager
def demo_registered() -> Iterator[None]:
    """The v2-API demo plugin (tests/support/ltx_demo_v2.py), registered in-process."""
    sys.path.insert(0, str(SUPPORT))
    import ltx_demo_v2

    registry.add_plugin("demo", ltx_demo_v2, "ltx-demo-v2", "2.0.0")
    try:
        yield
    finally:
        registry.remove_plugin("demo")
        sys.path.remove(str(SUPPORT))


@pytest.fixture
def demo_plugin() -> Iterator[None]:
    with demo_registered():
        yield


@pytest.fixture
def example_plugin() -> Iterator[None]:
    with example_registered():
        yield


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test runs in its own folder, with a fresh registry and no plugin env vars."""
    monkeypatch.chdir(tmp_path)
    for var in ("LTX_PLUGINS", "LTX_STRICT_PLUGINS", "LTX_RUN_DIR", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    registry.reset_registry()
    yield
    registry.reset_registry()


def run_ltx(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: int = 600
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``ltx`` console script in a fresh process."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("LTX_RUN_DIR", None)
    ltx = Path(sys.executable).with_name("ltx")
    return subprocess.run(
        [str(ltx), *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout
    )


@pytest.fixture(scope="session")
def installed_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin really pip-installed (a wheel build) into a folder of its own;
    put that folder on PYTHONPATH to see it as a third-party distribution."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-cache-dir", "--target", str(target), str(EXAMPLE)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return target


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
