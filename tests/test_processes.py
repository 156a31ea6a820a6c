"""Fresh-process checks: torch-free listing, a really installed third-party plugin,
a plugin that breaks on import, strict mode, and a two-process DDP run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ltx_core.cli.testing import QUIET


@pytest.mark.parametrize(
    "args", [["--help"], ["list"], ["list", "--json"], ["plugins"], ["info", "toy-classify"],
             ["config", "toy-classify"], ["config", "toy-classify", "--schema"]]
)  # fmt: skip
def test_listing_describing_validating_import_no_torch(
    args, installed_example: Path, ltx_probe
) -> None:
    probe = ltx_probe(*args, path=[installed_example], timeout=120)
    assert probe.imported == [], probe.stderr[-2000:]


def test_installed_third_party_plugin_lists_and_trains(
    installed_example: Path, tmp_path, run_ltx
) -> None:
    listed = run_ltx("list", "--json", path=[installed_example], cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    comps = {c["name"]: c for c in json.loads(listed.stdout)["components"]}
    assert comps["toy-classify"]["distribution"] == "ltx-toy"
    assert comps["toy-classify"]["version"] == "0.1.0"
    trained = run_ltx(
        "train", "toy-classify", "--max-steps", "2", "--accelerator", "cpu", "--output-dir", "run",
        *QUIET, path=[installed_example], cwd=tmp_path,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["global_step"] == 2


def _broken_plugin(root: Path) -> Path:
    dist = root / "ltx_broken-0.0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ltx-broken\nVersion: 0.0.1\n\n")
    (dist / "entry_points.txt").write_text("[ltx]\nbroken = ltx_broken_mod\n")
    (root / "ltx_broken_mod.py").write_text(
        "raise ImportError('this plugin is broken on purpose')\n"
    )
    return root


def test_broken_plugin_is_reported_not_fatal(
    installed_example: Path, tmp_path: Path, run_ltx
) -> None:
    path = [installed_example, _broken_plugin(tmp_path / "broken")]
    result = run_ltx("list", "--json", path=path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    [failure] = [f for f in data["failed"] if f["plugin"] == "broken"]
    assert "broken on purpose" in failure["error"]
    assert failure["distribution"] == "ltx-broken" and failure["version"] == "0.0.1"
    assert any(c["name"] == "toy-classify" for c in data["components"])
    table = run_ltx("list", path=path, cwd=tmp_path)
    assert table.returncode == 0 and "broken on purpose" in table.stdout
    strict = run_ltx("list", env={"LTX_STRICT_PLUGINS": "1"}, path=path, cwd=tmp_path)
    assert strict.returncode == 2
    assert "broken" in strict.stderr and "Traceback" not in strict.stderr
    only = run_ltx("list", "--json", env={"LTX_PLUGINS": "toy"}, path=path, cwd=tmp_path)
    assert json.loads(only.stdout)["failed"] == []


@pytest.mark.slow
def test_two_process_ddp_on_cpu(installed_example: Path, tmp_path: Path, run_ltx) -> None:
    result = run_ltx(
        "train", "toy-classify", "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp",
        "--output-dir", "run", "--max-epochs", "2", *QUIET,
        path=[installed_example], cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # one run directory only
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["world_size"] == 2
    assert {"val_acc", "test_acc"} <= set(summary["metrics"])
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()
    assert (tmp_path / "run" / "metrics.csv").is_file()
