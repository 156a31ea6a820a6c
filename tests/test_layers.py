"""The core's shape is checked, not reviewed: import-linter's contracts (pyproject.toml,
``[tool.importlinter]``) hold on the tree, and break on a deliberate library -> CLI import
and on a deliberate cycle; importing ``ltx_core`` and ``ltx --help`` stay torch-free."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ltx_core.cli.testing import HEAVY, probe_python

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the repository's contracts, on the ``ltx_core`` under ``src``."""
    shutil.copy(ROOT / "pyproject.toml", cwd / "pyproject.toml")
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT), "--no-logo", "--no-cache"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture
def core_copy(tmp_path: Path) -> Path:
    """A copy of ``src/`` to break on purpose."""
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "ltx_core", src / "ltx_core", ignore=shutil.ignore_patterns("__pycache__")
    )
    return src


def test_contracts_hold_on_the_tree(tmp_path: Path) -> None:
    result = _lint(ROOT / "src", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken." in result.stdout and "BROKEN" not in result.stdout


def test_a_library_module_importing_the_cli_breaks_the_build(
    core_copy: Path, tmp_path: Path
) -> None:
    store = core_copy / "ltx_core" / "registry" / "store.py"
    # Inside a function, where such imports used to hide.
    store.write_text(store.read_text() + "\n\ndef _sneaky():\n    from ltx_core.cli import app\n")
    result = _lint(core_copy, tmp_path)
    assert result.returncode == 1
    assert "ltx_core.registry is not allowed to import ltx_core.cli" in result.stdout
    assert "ltx_core.registry.store -> ltx_core.cli.app" in result.stdout


def test_an_import_cycle_breaks_the_build(core_copy: Path, tmp_path: Path) -> None:
    loading = core_copy / "ltx_core" / "inference" / "loading.py"
    loading.write_text(
        loading.read_text() + "\n\ndef _back():\n    from ltx_core.inference import predictor\n"
    )
    result = _lint(core_copy, tmp_path)
    assert result.returncode == 1
    assert "No import cycles between the modules of any ltx_core package BROKEN" in result.stdout


# Torch and Lightning, and what the first-party command plugins depend on.
WATCH = (*HEAVY, "fastapi", "uvicorn", "optuna", "sqlalchemy", "psycopg", "matplotlib")


@pytest.mark.parametrize(
    "code",
    [
        "import ltx_core",
        "from ltx_core import LtxError, HandOff, get_registry, hookimpl, RunRequest",
        "from ltx_core.registry import get_registry; get_registry()",
        "import ltx_core.configs, ltx_core.hookspecs",  # the moved paths, through compat
    ],
)
def test_importing_the_core_imports_nothing_heavy(code: str) -> None:
    probe = probe_python(code, watch=WATCH)
    assert probe.returncode == 0, probe.stderr
    assert probe.imported == []


def test_help_and_list_import_nothing_heavy(ltx_probe) -> None:
    for args in (["--help"], ["list"], ["plugins", "--json"]):
        assert ltx_probe(*args, watch=WATCH).imported == [], args
