"""ltx's test fixtures as a pytest plugin (entry point ``pytest11``): what ltx's own suites
use, and what a plugin author's tests get by installing ltx-core. They drive the ``ltx``
command line as a user does (in this process or a fresh one), so they live with it.

Nothing here is autouse: a suite opts in, usually in its ``conftest.py``::

    import pytest

    @pytest.fixture(autouse=True)
    def _ltx(ltx_env):            # every test in its own folder and registry
        yield

Fixtures:

- ``ltx_env``: the test runs in its own ``tmp_path`` (the working directory), with a fresh
  registry before and after, ``LTX_CACHE_DIR`` set to ``ltx_cache_dir``, a folder of the
  test session (never ``~/.cache``; shared by the session's tests, since what ltx caches
  there is keyed by its inputs: the CPU's roofline, a dataset's palette), and none of the
  variables that change which plugins load (``LTX_PLUGINS``, ``LTX_STRICT_PLUGINS``) or
  where a run goes (``LTX_RUN_DIR``, ``LOCAL_RANK``).
- ``ltx_plugin``: ``ltx_plugin(name, module_or_object, distribution="", version="")``
  registers a plugin in this process (no install), removed after the test.
- ``ltx_cli``: ``ltx_cli(*args)`` runs ``ltx`` in this process (Typer's runner); the
  result has ``exit_code``, ``stdout``, ``stderr`` and ``output``.
- ``ltx_train``: ``ltx_train(task, *args, output_dir="run")`` trains a short, quiet CPU
  run in this process and returns a :class:`TrainedRun` (its directory, checkpoint and
  summary); it asserts the run succeeded unless ``check=False``.
- ``ltx_shared_run``: ``ltx_shared_run(task, *args)`` is the directory of such a run
  trained once per test session for those arguments, for tests that only read it.
- ``run_ltx``: ``run_ltx(*args, env=..., cwd=..., path=..., plugins=..., timeout=...)``
  runs ``ltx`` in a fresh process (for what only a process shows: start-up imports,
  signals, exit codes of the real entry point), with ``path`` first on its
  ``PYTHONPATH`` and ``plugins`` (not installed) registered in it: see :func:`ltx_command`;
  :func:`start_ltx_process` starts one without waiting, to signal or kill it.
- ``ltx_probe``: ``ltx_probe(*args)`` runs ``ltx`` in a fresh process and reports which
  heavy modules (torch, Lightning, transformers) it imported: a :class:`Probe`.
  :func:`probe_python` does the same for any Python code.
- ``ltx_conformance``: ``ltx_conformance(plugin)`` runs the conformance kit
  (:func:`ltx_core.authoring.conformance.check_plugin`) on a registered plugin.

Parametrised conformance: mark a module or test ``@pytest.mark.ltx_conformance("my-plugin")``
and give the test a parameter ``ltx_case``; it runs once per check of the kit on the
plugin (``ltx_case(tmp_path)`` performs that check): each component's spec and config
(``kind:name``), its registration against its class (``registration:kind:name``) and
each task's CPU run (``run:task``).

:data:`QUIET` are the overrides that keep a test run's output and files small;
:func:`pip_install` installs a plugin's folder for real, into a folder of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "HEAVY",
    "QUIET",
    "Probe",
    "TrainedRun",
    "ltx_command",
    "ltx_process_env",
    "pip_install",
    "probe_ltx",
    "probe_python",
    "run_ltx_process",
    "start_ltx_process",
]

#: Overrides for short test runs: no progress bar, no TensorBoard files.
QUIET = ("trainer.enable_progress_bar=false", "trainer.tensorboard=false")
#: The modules a torch-free code path must not import (top-level package names).
HEAVY = ("torch", "torchvision", "pytorch_lightning", "lightning", "transformers")

_ENV_RESET = ("LTX_PLUGINS", "LTX_STRICT_PLUGINS", "LTX_RUN_DIR", "LOCAL_RANK")

#: An in-process plugin of a fresh process: ``(name, module)`` or
#: ``(name, module, distribution, version)``, the module given by its import name.
PluginSpec = Sequence[str]

# A fresh process that registers plugins the way ``ltx_plugin`` does, then runs ltx.
_LAUNCH = """
import importlib, sys
from ltx_core.registry import add_plugin
for _name, _module, *_dist in {plugins!r}:
    add_plugin(_name, importlib.import_module(_module), *_dist)
from ltx_core.cli.app import main
sys.argv = ["ltx", *sys.argv[1:]]
"""
# The probe's report, written last (to a file: the code's own output stays untouched).
_REPORT = """
import json as _json, sys as _sys
with open({out!r}, "w", encoding="utf-8") as _f:
    _json.dump({{"exit": globals().get("_exit_code", 0), "imported": sorted(
        m for m in _sys.modules if m.split(".")[0] in {watch!r})}}, _f)
"""


def ltx_process_env(
    env: Mapping[str, str] | None = None, path: Sequence[Path | str] = ()
) -> dict[str, str]:
    """This process's environment plus ``env``, ``path`` first on ``PYTHONPATH``, and no
    ``LTX_RUN_DIR`` (a run directory is never inherited from the test process)."""
    full = {**os.environ, **(env or {})}
    full.pop("LTX_RUN_DIR", None)
    if path:
        before = [p for p in full.get("PYTHONPATH", "").split(os.pathsep) if p]
        full["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in path), *before])
    return full


def ltx_command(*args: str, plugins: Sequence[PluginSpec] = ()) -> list[str]:
    """The command line of ``ltx ARGS`` in a fresh process: the installed console script,
    or, with ``plugins``, this interpreter registering them first (as ``ltx_plugin`` does
    in this process), so a plugin that is not installed runs in a real process too."""
    if not plugins:
        return [str(Path(sys.executable).with_name("ltx")), *args]
    launch = _LAUNCH.format(plugins=[tuple(p) for p in plugins]) + "main()\n"
    return [sys.executable, "-c", launch, *args]


def run_ltx_process(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float = 600,
    path: Sequence[Path | str] = (),
    plugins: Sequence[PluginSpec] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``ltx ARGS`` in a fresh process and wait for it; ``env`` is added to this
    process's environment and ``path`` put first on its ``PYTHONPATH``."""
    return subprocess.run(
        ltx_command(*args, plugins=plugins),
        capture_output=True,
        text=True,
        env=ltx_process_env(env, path),
        cwd=cwd,
        timeout=timeout,
    )


def start_ltx_process(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    path: Sequence[Path | str] = (),
    plugins: Sequence[PluginSpec] = (),
    **popen: Any,
) -> subprocess.Popen[str]:
    """Start ``ltx ARGS`` in a fresh process without waiting (to signal or kill it);
    its output is piped. ``popen`` goes to :class:`subprocess.Popen`."""
    return subprocess.Popen(
        ltx_command(*args, plugins=plugins),
        env=ltx_process_env(env, path),
        cwd=cwd,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


@dataclass(frozen=True)
class Probe:
    """A fresh process's outcome and the watched modules it had imported at its end."""

    returncode: int
    stdout: str
    stderr: str
    imported: list[str]


def probe_python(
    code: str,
    *argv: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    path: Sequence[Path | str] = (),
    watch: Sequence[str] = HEAVY,
    timeout: float = 300,
) -> Probe:
    """Run ``code`` (top-level Python, ``argv`` as ``sys.argv[1:]``) in a fresh process and
    report which ``watch`` packages it imported. A process that dies before the report
    is an ``AssertionError`` (never an empty, passing list)."""
    fd, out = tempfile.mkstemp(prefix="ltx-probe-", suffix=".json")
    os.close(fd)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code + "\n" + _REPORT.format(out=out, watch=set(watch)), *argv],
            capture_output=True,
            text=True,
            env=ltx_process_env(env, path),
            cwd=cwd,
            timeout=timeout,
        )
        text = Path(out).read_text(encoding="utf-8")
    finally:
        Path(out).unlink(missing_ok=True)
    if not text:
        raise AssertionError(
            f"the probe process ended (exit {proc.returncode}) before its report:\n"
            f"{proc.stderr[-3000:]}"
        )
    report = json.loads(text)
    code_ = proc.returncode or _exit_status(report["exit"])
    return Probe(code_, proc.stdout, proc.stderr, report["imported"])


def probe_ltx(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    path: Sequence[Path | str] = (),
    plugins: Sequence[PluginSpec] = (),
    watch: Sequence[str] = HEAVY,
    timeout: float = 300,
) -> Probe:
    """``ltx ARGS`` in a fresh process (as :func:`run_ltx_process`), reporting its exit
    status and which ``watch`` packages it imported: ``ltx --help``, ``ltx list`` and
    the other listing commands import no torch."""
    code = (
        _LAUNCH.format(plugins=[tuple(p) for p in plugins])
        + "try:\n    main()\nexcept SystemExit as _exc:\n    _exit_code = _exc.code\n"
    )
    return probe_python(code, *args, env=env, cwd=cwd, path=path, watch=watch, timeout=timeout)


def _exit_status(code: object) -> int:
    """What a process exiting with ``SystemExit(code)`` returns to its parent."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def pip_install(source: Path | str, target: Path | str) -> Path:
    """Install the distribution in ``source`` (a folder with a ``pyproject.toml``) into
    ``target`` with pip, as a real wheel build (no dependencies, no build isolation), and
    return ``target``: put it on ``path=`` / ``PYTHONPATH`` to see the plugin as a
    third-party distribution, entry points and all.

    The build runs on a copy of ``source``: setuptools writes ``build/`` and ``*.egg-info``
    into the folder it builds, so two test processes building one folder would collide."""
    with tempfile.TemporaryDirectory(prefix="ltx-pip-") as tmp:
        copy = Path(tmp) / Path(source).name
        shutil.copytree(
            source, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
        )
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
             "--no-cache-dir", "--target", str(target), str(copy)],
            capture_output=True, text=True,
        )  # fmt: skip
    if proc.returncode:
        raise AssertionError(f"pip could not install {source}:\n{proc.stderr[-3000:]}")
    return Path(target)


@dataclass(frozen=True)
class TrainedRun:
    """A run ``ltx_train`` trained: its directory and what ``ltx train`` printed."""

    dir: Path
    result: Any  # click.testing.Result

    @property
    def exit_code(self) -> int:
        return int(self.result.exit_code)

    @property
    def output(self) -> str:
        return str(self.result.output)

    @property
    def stdout(self) -> str:
        return str(self.result.stdout)

    @property
    def stderr(self) -> str:
        return str(self.result.stderr)

    @property
    def checkpoint(self) -> Path:
        """``checkpoints/last.ckpt``: what ``ltx test`` / ``predict`` / ``--resume`` read."""
        return self.dir / "checkpoints" / "last.ckpt"

    def summary(self) -> dict[str, Any]:
        """The run's ``summary.json``."""
        return dict(json.loads((self.dir / "summary.json").read_text(encoding="utf-8")))


def _train(
    task: str,
    *args: str,
    output_dir: Path | str,
    accelerator: str | None,
    check: bool,
) -> TrainedRun:
    from typer.testing import CliRunner

    from ltx_core.cli.app import app

    out = Path(output_dir).absolute()
    device = ["--accelerator", accelerator] if accelerator else []
    result = CliRunner().invoke(app, ["train", task, "-o", str(out), *device, *QUIET, *args])
    if check:
        assert result.exit_code == 0, result.output
    return TrainedRun(out, result)


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


@pytest.fixture(scope="session")
def ltx_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's ``LTX_CACHE_DIR`` (what ``ltx_env`` sets)."""
    return tmp_path_factory.mktemp("ltx-cache")


@pytest.fixture
def ltx_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ltx_cache_dir: Path) -> Iterator[Path]:
    """The test's own working folder and registry, the session's cache; yields the folder."""
    from ltx_core.registry import reset_registry

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LTX_CACHE_DIR", str(ltx_cache_dir))
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
def ltx_train() -> Callable[..., TrainedRun]:
    """``ltx_train(task, *args, output_dir="run", accelerator="cpu", check=True)``: ``ltx
    train TASK -o OUTPUT_DIR --accelerator cpu`` with :data:`QUIET` and ``args`` (flags and
    ``key=value`` overrides; a later flag wins), in this process. With ``check`` it asserts
    exit 0, showing the output; ``accelerator=None`` leaves the choice to the config."""

    def train(
        task: str,
        *args: str,
        output_dir: Path | str = "run",
        accelerator: str | None = "cpu",
        check: bool = True,
    ) -> TrainedRun:
        return _train(task, *args, output_dir=output_dir, accelerator=accelerator, check=check)

    return train


@pytest.fixture(scope="session")
def ltx_shared_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``ltx_shared_run(task, *args, accelerator="cpu")``: the directory of a run as
    ``ltx_train`` trains it, trained once per test session (per worker under xdist) for
    the same arguments, by the first test that asks, with the plugins that test has
    registered. For tests that only read the run (``ltx test``, ``ltx predict``, its
    files): copy it (``shutil.copytree``) before changing anything in it."""
    runs: dict[tuple[str, ...], Path] = {}

    def shared(task: str, *args: str, accelerator: str | None = "cpu") -> Path:
        key = (task, accelerator or "", *args)
        if key not in runs:
            out = tmp_path_factory.mktemp("ltx-shared-run") / "run"
            _train(task, *args, output_dir=out, accelerator=accelerator, check=True)
            runs[key] = out
        return runs[key]

    return shared


@pytest.fixture
def run_ltx() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_ltx(*args, env=None, cwd=None, path=(), plugins=(), timeout=600)``: ``ltx``
    in a fresh process (:func:`run_ltx_process`)."""
    return run_ltx_process


@pytest.fixture
def ltx_probe() -> Callable[..., Probe]:
    """``ltx_probe(*args, env=None, path=(), plugins=(), watch=HEAVY)``: ``ltx`` in a fresh
    process and the heavy modules it imported (:func:`probe_ltx`)."""
    return probe_ltx


@pytest.fixture
def ltx_conformance(tmp_path: Path) -> Callable[[str], None]:
    """``ltx_conformance(plugin)``: the whole conformance kit on one registered plugin."""
    from ltx_core.authoring.conformance import check_plugin

    def check(plugin: str, *, run_tasks: bool = True) -> None:
        check_plugin(plugin, tmp_path / "conformance", run_tasks=run_tasks)

    return check
