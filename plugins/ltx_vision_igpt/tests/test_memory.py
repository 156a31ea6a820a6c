"""Memory budget of the seed's example: ``ltx train igpt`` on 28x28 and 32x32 images at defaults.

The budget is what an 8 GB laptop leaves a training job: **3 GB peak resident memory**
(imports alone take ~0.8 GB). Before attention dropout was dropped, CPU attention
materialised (batch, heads, pixels, pixels) scores and these runs peaked at 5.8 GB
(MNIST) and 9.2 GB (CIFAR-10); the peak comes from the training step, so a few
thousand images show it as well as the full sets (which measure 1.7 / 2.0 GB now).
Each run is a fresh process, so its ``peak_memory_mb`` (on a CPU, the process's peak
resident set, pictures included) measures this run alone.
"""

from __future__ import annotations

import json
import resource
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ltx_core.cli.testing import QUIET

BUDGET_MB = 3000


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["mnist", "cifar10"])
def test_default_run_stays_within_the_memory_budget(
    dataset: str, tmp_path: Path, write_datasets: tuple[Any, Any], run_ltx: Callable[..., Any]
) -> None:
    write_cifar10, write_mnist = write_datasets
    data = tmp_path / "data"
    if dataset == "cifar10":
        write_cifar10(data, per_batch=1000, n_test=200)  # 5000 training images of 32x32
    else:
        write_mnist(data, "MNIST", n_train=5000, n_test=200)
    run = tmp_path / "run"
    # The defaults throughout (batch 64, the gpt2 backbone with its dropout, 16 samples);
    # only the test pass is cut short, as its memory is that of a training step's forward.
    # A cache of its own: the palette is fitted in the measured process.
    done = run_ltx(
        "train", "igpt", "--dataset", dataset, "--accelerator", "cpu", "--max-steps", "2",
        "--output-dir", str(run), f"dataset.data_dir={data}", "trainer.limit_test_batches=1",
        *QUIET, env={"LTX_CACHE_DIR": str(tmp_path / "cache"), "OMP_WAIT_POLICY": "PASSIVE"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["peak_memory_kind"] == "host_rss"
    assert summary["global_step"] == 2
    assert (run / "artifacts" / "samples.png").is_file()
    peak = summary["peak_memory_mb"]
    assert peak < BUDGET_MB, f"{dataset}: peak resident memory {peak:.0f} MB"
    # The kernel's own count for the child agrees (a bound: the largest child so far).
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert children_mb >= peak * 0.95
