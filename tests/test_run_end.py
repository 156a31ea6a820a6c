"""A run always ends with its numbers: a run shorter than an epoch validates at its end, a
loss that turns non-finite stops the run with one sentence and a summary, and the weight
average warms up so a short run scores what it learnt."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ltx_core.cli.testing import QUIET
from ltx_core.engine.callbacks import ema_decay_at

QUIET_RUN = [*QUIET, "trainer.enable_model_summary=false", "--accelerator", "cpu"]


def _summary(folder: str) -> dict:
    return json.loads(Path(folder, "summary.json").read_text())


def test_the_average_warms_up() -> None:
    assert ema_decay_at(0, 0.999) == pytest.approx(0.1)
    assert ema_decay_at(90, 0.999) == pytest.approx(91 / 100)
    assert ema_decay_at(100_000, 0.999) == 0.999
    assert ema_decay_at(50, 0.5) == 0.5  # never above the configured decay


@pytest.mark.slow
def test_a_run_shorter_than_an_epoch_has_its_validation_metrics(ltx_cli: Callable) -> None:
    result = ltx_cli("train", "igpt", "--max-steps", "30", "-o", "short", *QUIET_RUN)
    assert result.exit_code == 0, result.output
    summary = _summary("short")
    assert summary["global_step"] == 30 and summary["stopped_by"] == "max_steps"
    assert {"val_acc", "val_loss", "test_acc"} <= set(summary["metrics"])
    tested = summary["checkpoints"]["test_metrics_from"]
    assert tested is not None and Path(tested).name == "last.ckpt"  # no validation kept a best


@pytest.mark.slow
def test_a_non_finite_loss_stops_the_run_with_a_sentence_and_a_summary(run_ltx: Callable) -> None:
    proc = run_ltx(
        "train", "igpt", "optimizer.lr=.inf", "--max-steps", "3", "-o", "nan", *QUIET_RUN
    )
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("Error: The training loss became nan at step ")
    assert "lower optimizer.lr (it is inf)" in line and "Traceback" not in proc.stderr
    summary = _summary("nan")
    assert summary["stopped_by"] == "non_finite_loss"
    assert summary["checkpoints"]["test_metrics_from"] is None  # nothing scored non-finite weights
    assert not Path("nan/artifacts").exists()


@pytest.mark.slow
def test_the_average_scores_what_a_short_run_learnt(ltx_cli: Callable) -> None:
    # The README's igpt run, shorter: with the average, it scores what the raw weights
    # score (a 0.999 average from the first step stayed near its random start: chance).
    accs = {}
    for name, extra in (("ema", []), ("raw", ["trainer.ema_decay=null"])):
        result = ltx_cli("train", "igpt", "--max-epochs", "2", "-o", name, *QUIET_RUN, *extra)
        assert result.exit_code == 0, result.output
        accs[name] = _summary(name)["metrics"]["test_acc"]
    assert accs["ema"] >= accs["raw"] - 0.03, accs
    assert accs["ema"] > 0.13, accs  # well above chance (0.1)
