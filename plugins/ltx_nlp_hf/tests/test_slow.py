"""Slow checks (``pytest -m slow``): a real fine-tuning run reaching a real accuracy, and a
two-process DDP run on CPU whose metrics are gathered from both processes."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ltx_core.cli.testing import QUIET

pytestmark = pytest.mark.slow


@pytest.mark.skipif(
    os.environ.get("LTX_LONG_TESTS") != "1",
    reason="a 10-minute CPU fine-tuning run; set LTX_LONG_TESTS=1 to run it",
)
def test_minilm_on_sst2_reaches_85_percent(tmp_path: Path, run_ltx: Callable[..., Any]) -> None:
    """The default run: packaged SST-2 subset, all-MiniLM-L6-v2, one epoch on CPU; scored
    on the 872 GLUE validation sentences (the packaged test split)."""
    result = run_ltx(
        "train",
        "text-classification",
        "--backbone",
        "minilm",
        "--accelerator",
        "cpu",
        "-o",
        "run",
        "trainer.enable_progress_bar=false",
        cwd=tmp_path,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["metrics"]["test_acc"] >= 0.85, summary["metrics"]


def test_two_process_ddp_on_cpu(shared: Path, tmp_path: Path, run_ltx: Callable[..., Any]) -> None:
    sst2 = shared / "sst2"
    result = run_ltx(
        "train", "text-classification", "--dataset", "text-classification-files",
        "--backbone", "tiny-bert", "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp",
        "--max-epochs", "1", f"dataset.train_file={sst2 / 'dev.tsv'}",
        f"dataset.test_file={sst2 / 'test.tsv'}", "dataset.text_column=sentence",
        "dataset.limit_train_samples=128", "dataset.limit_val_samples=64",
        "dataset.limit_test_samples=64", "dataset.batch_size=16",
        *QUIET, "-o", "run",
        cwd=tmp_path, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["world_size"] == 2
    assert {"val_acc", "test_acc", "test_f1"} <= set(summary["metrics"])
