"""``ltx new plugin``: the generated package installs, lists, conforms and trains."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ltx_core.cli.testing import QUIET, ltx_process_env, pip_install


def test_refuses_bad_names_and_existing_folders(ltx_cli, tmp_path: Path) -> None:
    bad = ltx_cli("new", "plugin", "Acme Sums")
    assert bad.exit_code == 2 and "not a plugin name" in bad.stderr
    ok = ltx_cli("new", "plugin", "acme-sums")
    assert ok.exit_code == 0, ok.output
    again = ltx_cli("new", "plugin", "acme-sums")
    assert again.exit_code == 2 and "already exists" in again.stderr


@pytest.mark.slow
def test_generated_plugin_installs_conforms_and_trains(tmp_path: Path, run_ltx) -> None:
    made = run_ltx("new", "plugin", "acme-sums", "--dir", str(tmp_path), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    root = tmp_path / "ltx-acme-sums"
    site = pip_install(root, tmp_path / "site")
    listed = run_ltx("list", "--json", path=[site], cwd=tmp_path)
    comps = {c["name"]: c for c in json.loads(listed.stdout)["components"]}
    task = comps["acme-sums-classify"]
    assert (task["distribution"], task["version"]) == ("ltx-acme-sums", "0.1.0")
    assert {"acme-sums-sequences", "acme-sums-encoder", "acme-sums-encoder-wide"} <= set(comps)
    # The config's own validator: a user's mistake, one sentence, exit 2, no torch needed.
    bad = run_ltx("config", "acme-sums-classify", "backbone.n_head=5", path=[site], cwd=tmp_path)
    assert bad.returncode == 2 and "n_head (5) must divide d_model (32)" in bad.stderr, bad.stderr
    conformance = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env=ltx_process_env(path=[site]),
    )  # fmt: skip
    assert conformance.returncode == 0, conformance.stdout[-3000:]
    trained = run_ltx(
        "train", "acme-sums-classify", "--max-steps", "5", "--accelerator", "cpu",
        "--output-dir", "run", *QUIET, path=[site], cwd=tmp_path,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["global_step"] == 5
