"""trainer.loggers with a real MLflow (local file store): the run mlflow's own API reads
back has the same metrics, step by step, as metrics.csv."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from ltx_core.cli.app import app

mlflow = pytest.importorskip("mlflow")


def test_mlflow_logger_matches_metrics_csv(
    demo_plugin: None, runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MLflow 3 keeps the file store behind an opt-in; a local folder is what a test can own.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    store = f"file:{tmp_path / 'mlruns'}"
    out = tmp_path / "run"
    logger = f"[{{class_path: MLFlowLogger, init_args: {{experiment_name: ltx, tracking_uri: '{store}'}}}}]"
    result = runner.invoke(
        app, ["train", "demo-classify", "--max-steps", "6", "-o", str(out),
              "trainer.enable_progress_bar=false", "trainer.tensorboard=false",
              "trainer.log_every_n_steps=1", f"trainer.loggers={logger}"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    client = mlflow.tracking.MlflowClient(store)
    experiment = client.get_experiment_by_name("ltx")
    (run,) = client.search_runs([experiment.experiment_id])
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    compared = 0
    for name in ("train_loss", "val_loss", "val_acc", "test_acc"):
        from_csv = {int(r["step"]): float(r[name]) for r in rows if r.get(name)}
        from_mlflow = {m.step: m.value for m in client.get_metric_history(run.info.run_id, name)}
        assert from_csv and from_csv.keys() == from_mlflow.keys(), (name, from_csv, from_mlflow)
        for step, value in from_csv.items():
            assert math.isclose(value, from_mlflow[step], rel_tol=1e-6), (name, step)
            compared += 1
    assert compared >= 9
