"""Plugins written against ltx-core 0.1's documented API keep working.

``tests/compat/`` holds frozen copies (see its README): the 0.1 example plugin and the
0.1 output of ``ltx new plugin acme-sums``. Each is really pip-installed into a folder
of its own, then driven through the CLI in fresh processes, as an outside author's
users would: list, train, test and predict from the checkpoint, and (for the scaffold)
its own conformance test. Deprecation warnings on stderr are allowed: the contract is
exit codes and outputs, not silence.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ltx_core.cli.testing import QUIET, ltx_process_env, pip_install, run_ltx_process

COMPAT = Path(__file__).resolve().parent / "compat"


@dataclass(frozen=True)
class Fixture:
    """One frozen plugin: its folder and what its users type."""

    folder: str
    distribution: str
    version: str
    task: str
    components: tuple[str, ...]
    example: str  # one input for `ltx predict`


FIXTURES = {
    "example_plugin_v1": Fixture(
        "example_plugin_v1", "ltx-example-plugin", "0.3.1", "toy-classify",
        ("toy-classify", "toy-blobs", "toy-mlp", "toy-mlp-wide"), "1,2,3,4",
    ),
    "scaffold_v1": Fixture(
        "scaffold_v1", "ltx-acme-sums", "0.1.0", "acme-sums-classify",
        ("acme-sums-classify", "acme-sums-sequences", "acme-sums-encoder"), "1 2 3 4 5 6 7 8",
    ),
}  # fmt: skip
# Short runs: the point is that the old API still wires up, not that it learns.
FAST = ["trainer.limit_val_batches=2", "trainer.limit_test_batches=2", *QUIET]


@dataclass(frozen=True)
class Installed:
    fixture: Fixture
    source: Path  # a copy of the frozen folder (pip writes build/ and egg-info into it)
    site: Path  # the --target folder: put it on PYTHONPATH to see the plugin

    @property
    def env(self) -> dict[str, str]:
        # Only this folder: the frozen example shares its distribution and package names
        # with tests/example_plugin, so the two must never meet on one path.
        return {"PYTHONPATH": str(self.site)}


def _install(name: str, tmp: Path) -> Installed:
    fixture = FIXTURES[name]
    source = tmp / "src" / fixture.folder
    shutil.copytree(COMPAT / fixture.folder, source, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__"))  # fmt: skip
    return Installed(fixture, source, pip_install(source, tmp / "site"))


@pytest.fixture(scope="module", params=sorted(FIXTURES))
def installed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    return _install(request.param, tmp_path_factory.mktemp(request.param))


@pytest.fixture(scope="module")
def trained(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One short CPU run of the plugin's task; the run directory."""
    out = tmp_path_factory.mktemp("run") / "run"
    proc = run_ltx_process(
        "train", installed.fixture.task, "--max-steps", "2", "--accelerator", "cpu",
        "--output-dir", str(out), *FAST, env=installed.env, cwd=out.parent,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_lists_its_components(installed: Installed, tmp_path: Path) -> None:
    proc = run_ltx_process("list", "--json", env=installed.env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout)
    assert not data["failed"], data["failed"]
    comps = {c["name"]: c for c in data["components"]}
    fixture = installed.fixture
    assert set(fixture.components) <= set(comps), sorted(comps)
    for name in fixture.components:
        assert (comps[name]["distribution"], comps[name]["version"]) == (
            fixture.distribution, fixture.version,
        )  # fmt: skip


@pytest.mark.slow
def test_trains(trained: Path) -> None:
    summary = json.loads((trained / "summary.json").read_text())
    assert summary["global_step"] == 2
    assert (trained / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.slow
def test_tests_from_the_checkpoint(installed: Installed, trained: Path, tmp_path: Path) -> None:
    proc = run_ltx_process(
        "test", "--ckpt", str(trained / "checkpoints" / "last.ckpt"), "--json",
        "--accelerator", "cpu", env=installed.env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads(proc.stdout[proc.stdout.index("{") :])
    assert {"test_loss", "test_acc"} <= set(metrics), metrics


@pytest.mark.slow
def test_predicts_from_the_checkpoint(installed: Installed, trained: Path, tmp_path: Path) -> None:
    example = installed.fixture.example
    proc = run_ltx_process(
        "predict", "--ckpt", str(trained / "checkpoints" / "last.ckpt"), example,
        env=installed.env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [row["input"] for row in rows] == [example]
    assert all(isinstance(row["class"], int) for row in rows), rows
    # Every row of a file, batched, with --set passed on as strings, as 0.1 tasks expect.
    (tmp_path / "in.txt").write_text(f"{example}\n" * 5)
    proc = run_ltx_process(
        "predict", "--ckpt", str(trained / "checkpoints" / "last.ckpt"), "--input", "in.txt",
        "--batch-size", "2", "--no-progress", "--set", "any=thing",
        env=installed.env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [json.loads(line)["input"] for line in proc.stdout.splitlines()] == [example] * 5


@pytest.mark.slow
def test_scaffold_v1_own_tests_pass(tmp_path_factory: pytest.TempPathFactory) -> None:
    installed = _install("scaffold_v1", tmp_path_factory.mktemp("scaffold_v1_own"))
    # From the copy, outside this repository: its own rootdir, not this suite's conftest.
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=installed.source, capture_output=True, text=True, timeout=600,
        env=ltx_process_env(installed.env),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
