"""Resuming a run: a changed config is shown key by key and refused unless allowed;
changing only how long it runs is fine."""

from __future__ import annotations

import json
from pathlib import Path

from ltx_core.cli.app import app

QUIET = ["trainer.enable_progress_bar=false", "trainer.tensorboard=false"]


def _train(runner, out: Path, *extra: str):
    return runner.invoke(app, ["train", "demo-classify", "-o", str(out), *QUIET, *extra])


def test_changed_config_is_refused_with_the_difference(demo_plugin: None, runner, tmp_path) -> None:
    out = tmp_path / "run"
    assert _train(runner, out).exit_code == 0
    result = _train(runner, out, "--resume", "--max-steps", "8", "optimizer.lr=0.5")
    assert result.exit_code == 2, result.output
    msg = " ".join(result.output.split())
    assert "optimizer.lr: 0.02 -> 0.5" in msg and "--allow-changes" in msg, msg
    assert "max_steps" not in msg  # safe to change: not listed as a problem
    allowed = _train(
        runner, out, "--resume", "--max-steps", "8", "optimizer.lr=0.5", "--allow-changes"
    )
    assert allowed.exit_code == 0, allowed.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["resumed_from_step"] == 6 and summary["global_step"] == 8


def test_allow_changes_needs_resume(demo_plugin: None, runner, tmp_path) -> None:
    result = _train(runner, tmp_path / "run", "--allow-changes")
    assert result.exit_code == 2 and "--allow-changes goes with --resume" in result.output


def test_resume_keeps_the_earlier_metrics(demo_plugin: None, runner, tmp_path) -> None:
    import csv

    out = tmp_path / "run"
    assert _train(runner, out, "trainer.log_every_n_steps=1").exit_code == 0
    before = list(csv.DictReader((out / "metrics.csv").open()))
    assert (
        _train(runner, out, "--resume", "--max-steps", "9", "trainer.log_every_n_steps=1").exit_code
        == 0
    )
    after = list(csv.DictReader((out / "metrics.csv").open()))
    assert after[: len(before)] == [{**{k: "" for k in after[0]}, **row} for row in before]
    steps = [int(r["step"]) for r in after if r.get("step")]
    assert max(steps) >= 8 and min(steps) == 0
