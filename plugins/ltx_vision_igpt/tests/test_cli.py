"""End to end through the ltx CLI: train on an offline CIFAR-10 copy, test and predict."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

TINY = ["backbone.n_embd=16", "backbone.n_head=2", "backbone.n_layer=1"]
Cli = Callable[..., Any]


def test_train_test_predict_on_cifar10_offline(
    cifar10_dir: tuple[Path, np.ndarray], tmp_path: Path, ltx_train: Cli, ltx_cli: Cli
) -> None:
    data, _ = cifar10_dir
    trained = ltx_train(
        "igpt", "--dataset", "cifar10", "--max-steps", "3", f"dataset.data_dir={data}",
        "dataset.batch_size=8", "task.sample_count=2", *TINY, output_dir=tmp_path / "run",
    )  # fmt: skip
    run = trained.dir
    for name in ("config.yaml", "metrics.csv", "summary.json", "artifacts/samples.png",
                 "artifacts/completions.png"):  # fmt: skip
        assert (run / name).is_file(), name
    summary = json.loads((run / "summary.json").read_text())
    assert {"val_acc", "val_bpd", "test_acc", "test_bpd"} <= set(summary["metrics"])
    assert summary["global_step"] == 3
    assert summary["throughput"], summary

    ckpt = trained.checkpoint
    tested = ltx_cli("test", "--ckpt", str(ckpt), "--accelerator", "cpu", "--json")
    assert tested.exit_code == 0, tested.output
    metrics = json.loads(tested.stdout[tested.stdout.index("{") :])
    assert {"test_acc", "test_bpd", "test_loss"} <= set(metrics)

    pred_dir = tmp_path / "pred"
    predicted = ltx_cli("predict", "--ckpt", str(ckpt), "-o", str(pred_dir),
                        "--set", "count=2", "--set", "samples=1",
                        "--set", "unconditional=1", "--set", "top_k=4")  # fmt: skip
    assert predicted.exit_code == 0, predicted.output
    rows = [json.loads(line) for line in predicted.output.splitlines() if line.startswith("{")]
    assert len(rows) == 3 and rows[2] == {"samples": str(pred_dir / "samples.png")}
    classes = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"}  # fmt: skip
    assert all(r["label"] in classes and r["predicted"] in classes for r in rows[:2])
    assert (pred_dir / "completions.png").is_file() and (pred_dir / "samples.png").is_file()


def test_missing_dataset_offline_is_a_user_error(tmp_path: Path, ltx_cli: Cli) -> None:
    result = ltx_cli("train", "igpt", "--dataset", "cifar10", f"dataset.data_dir={tmp_path}",
                     "dataset.download=false", "--output-dir", str(tmp_path / "run"))  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "cifar-10-batches-py" in result.output


def test_linear_probe_without_a_checkpoint_is_a_config_error(tmp_path: Path, ltx_cli: Cli) -> None:
    result = ltx_cli(
        "train", "igpt", "task.mode=linear-probe", "--output-dir", str(tmp_path / "run")
    )
    assert result.exit_code == 2, result.output
    assert "probe_checkpoint" in result.output
