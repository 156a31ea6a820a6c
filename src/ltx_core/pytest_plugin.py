"""ltx's test fixtures as a pytest plugin (entry point ``pytest11``): what ltx's own suites
use, and what a plugin author's tests get by installing ltx-core.

Nothing here is autouse: a suite opts in, usually in its ``conftest.py``::

    import pytest

    @pytest.fixture(autouse=True)
    def _ltx(ltx_env):            # every test in its own folder, cache and registry
        yield

Fixtures:

- ``ltx_env``: the test runs in its own ``tmp_path`` (the working directory), with its
  own ``LTX_CACHE_DIR``, a fresh registry before and after, and none of the variables
  that change which plugins load (``LTX_PLUGINS``, ``LTX_STRICT_PLUGINS``) or where a run
  goes (``LTX_RUN_DIR``, ``LOCAL_RANK``).
- ``ltx_plugin``: ``ltx_plugin(name, module_or_object, distribution="", version="")``
  registers a plugin in this process (no install), removed after the test.
- ``ltx_cli``: ``ltx_cli(*args)`` runs ``ltx`` in this process (Typer's runner); the
  result has ``exit_code``, ``stdout``, ``stderr`` and ``output``.
- ``run_ltx``: ``run_ltx(*args, env=..., cwd=..., timeout=...)`` runs the installed ``ltx``
  console script in a fresh process (for what only a process shows: start-up imports,
  signals, exit codes of the real entry point).
- ``ltx_conformance``: ``ltx_conformance(plugin)`` runs the conformance kit
  (:func:`ltx_core.authoring.conformance.check_plugin`) on a registered plugin.

Parametrised conformance: mark a module or test ``@pytest.mark.ltx_conformance("my-plugin")``
and give the test a parameter ``ltx_case``; it runs once per component and task of the
plugin (``ltx_case(tmp_path)`` performs that check).

:data:`QUIET` are the overrides that keep a test run's output and files small.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["QUIET", "ltx_command", "run_ltx_process"]

#: Overrides for short test runs: no progress bar, no TensorBoard files.
QUIET = ("trainer.enable_progress_bar=false", "trainer.tensorboard=false")

_ENV_RESET = ("LTX_PLUGINS", "LTX_STRICT_PLUGINS", "LTX_RUN_DIR", "LOCAL_RANK")


def ltx_command() -> list[str]:
    """The installed ``ltx`` console script of this interpreter's environment."""
    return [str(Path(sys.executable).with_name("ltx"))]


def run_ltx_process(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run ``ltx ARGS`` in a fresh process; ``env`` is added to this process's environment."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("LTX_RUN_DIR", None)
    return subprocess.run(
        [*ltx_command(), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "ltx_conformance(plugin): parametrise the test's 'ltx_case' over the plugin's "
        "conformance checks",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "ltx_case" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("ltx_conformance")
    if marker is None or not marker.args:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: a test taking 'ltx_case' needs "
            "@pytest.mark.ltx_conformance('plugin-name')"
        )
    from ltx_core.authoring.conformance import conformance_cases
    from ltx_core.registry import reset_registry

    reset_registry()
    cases = conformance_cases(str(marker.args[0]))
    metafunc.parametrize("ltx_case", [c[1] for c in cases], ids=[c[0] for c in cases])


@pytest.fixture
def ltx_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The test's own working folder, cache and registry; yields the folder."""
    from ltx_core.registry import reset_registry

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LTX_CACHE_DIR", str(tmp_path / ".ltx-cache"))
    for var in _ENV_RESET:
        monkeypatch.delenv(var, raising=False)
    reset_registry()
    yield tmp_path
    reset_registry()


@pytest.fixture
def ltx_plugin() -> Iterator[Callable[..., None]]:
    """``ltx_plugin(name, plugin, distribution="", version="")``: an in-process plugin."""
    from ltx_core.registry import add_plugin, remove_plugin

    added: list[str] = []

    def add(name: str, plugin: Any, distribution: str = "", version: str = "") -> None:
        add_plugin(name, plugin, distribution, version)
        added.append(name)

    yield add
    for name in added:
        remove_plugin(name)


@pytest.fixture
def ltx_cli() -> Callable[..., Any]:
    """``ltx_cli(*args, input=None)``: ``ltx`` in this process; a Click ``Result``."""
    from typer.testing import CliRunner

    from ltx_core.cli.app import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Any:
        return runner.invoke(app, list(args), input=input)

    return invoke


@pytest.fixture
def run_ltx() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_ltx(*args, env=None, cwd=None, timeout=600)``: ``ltx`` in a fresh process."""
    return run_ltx_process


@pytest.fixture
def ltx_conformance(tmp_path: Path) -> Callable[[str], None]:
    """``ltx_conformance(plugin)``: the whole conformance kit on one registered plugin."""
    from ltx_core.authoring.conformance import check_plugin

    def check(plugin: str, *, run_tasks: bool = True) -> None:
        check_plugin(plugin, tmp_path / "conformance", run_tasks=run_tasks)

    return check
