"""A sweep on a validation metric with runs shorter than an epoch: every trial validates
at its end, so the metric is there, and no Lightning warning reaches the user."""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.mark.slow
def test_a_short_sweep_on_val_acc_finishes_without_a_warning(
    tmp_path: Path, run_ltx: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    (tmp_path / "space.yaml").write_text("optimizer.lr: {low: 1.0e-3, high: 1.0e-2, log: true}\n")
    proc = run_ltx(
        "sweep", "igpt", "--space", "space.yaml", "--trials", "2", "--metric", "val_acc",
        "--direction", "maximize", "--max-steps", "30", "--accelerator", "cpu",
        "-o", "sweep", "trainer.tensorboard=false",
        cwd=tmp_path, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    with (tmp_path / "sweep" / "trials.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["state"] for r in rows] == ["complete", "complete"], rows
    assert all(float(r["val_acc"]) >= 0 for r in rows)
    noise = [line for line in proc.stderr.splitlines() if "warn" in line.lower()]
    assert noise == [], proc.stderr[-3000:]
