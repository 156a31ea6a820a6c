"""trainer.loggers with a real MLflow (local file store) and a real W&B (offline mode): the
run each tool's own reader reads back has the same metrics, step by step, as metrics.csv."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from ltx_core.cli.testing import QUIET

from .conftest import DEMO, SUPPORT

mlflow = pytest.importorskip("mlflow")


def test_mlflow_logger_matches_metrics_csv(
    demo_plugin: None, ltx_train, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MLflow 3 keeps the file store behind an opt-in; a local folder is what a test can own.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    store = f"file:{tmp_path / 'mlruns'}"
    out = tmp_path / "run"
    logger = f"[{{class_path: MLFlowLogger, init_args: {{experiment_name: ltx, tracking_uri: '{store}'}}}}]"
    ltx_train("demo-classify", "--max-steps", "6", "trainer.log_every_n_steps=1",
              f"trainer.loggers={logger}", output_dir=out)  # fmt: skip

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


def test_wandb_logger_offline_matches_metrics_csv(run_ltx, tmp_path: Path) -> None:
    """W&B in offline mode (no account, no network): the run's own transaction log, read back
    with W&B's reader (``wandb leet inspect --json``), has metrics.csv's values step by step."""
    pytest.importorskip("wandb")
    out, save = tmp_path / "run", tmp_path / "wb"
    save.mkdir()
    logger = f"[{{class_path: WandbLogger, init_args: {{project: ltx, offline: true, save_dir: '{save}'}}}}]"
    env = {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DIR": str(save)}
    # In a process of its own: W&B finishes its run (flushes the log) when the process
    # exits, as it does for a user.
    done = run_ltx(
        "train", "demo-classify", "--max-steps", "6", "-o", str(out), *QUIET,
        "trainer.log_every_n_steps=1", f"trainer.loggers={logger}",
        env=env, path=[SUPPORT], plugins=[DEMO], timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    (log,) = save.glob("wandb/offline-run-*/run-*.wandb")
    wandb_cli = Path(sys.executable).parent / "wandb"
    records = subprocess.run(
        [str(wandb_cli), "leet", "inspect", "--json", str(log)],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout.splitlines()  # fmt: skip
    history = [json.loads(r)["history"]["item"] for r in records if '"type":"history"' in r]
    assert history, records[:5]
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    compared = 0
    for name in ("train_loss", "val_loss", "val_acc", "test_acc"):
        from_csv = {int(r["step"]): float(r[name]) for r in rows if r.get(name)}
        # Lightning's WandbLogger logs the step as a metric of its own, trainer/global_step.
        from_wandb = {int(h["trainer/global_step"]): h[name] for h in history if name in h}
        assert from_csv and from_csv.keys() == from_wandb.keys(), (name, from_csv, from_wandb)
        for step, value in from_csv.items():
            assert math.isclose(value, from_wandb[step], rel_tol=1e-6), (name, step)
            compared += 1
    assert compared >= 9
