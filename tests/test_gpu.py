"""The GPU suite (``pytest -m gpu``; skipped without CUDA): ``--gpus 1`` training (the seed's
``ltx train igpt --dataset cifar10 --gpus 1`` on a local CIFAR-10 copy), bf16 on the GPU,
``ltx predict`` on the GPU, FSDP on one GPU whose checkpoint ``ltx test`` and ``ltx
predict`` read on one device, and DeepSpeed where it is installed. Plus, on machines
without a GPU, the check that ``benchmarks/gpu_check.sh`` stops at once with one line."""

from __future__ import annotations

import json
import pickle
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ltx_core.cli.testing import QUIET, run_ltx_process

ROOT = Path(__file__).resolve().parents[1]


def _toy(installed_example: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_ltx_process(
        "train", "toy-classify", "--max-steps", "20", *QUIET, *args,
        path=[installed_example], cwd=tmp_path,
    )  # fmt: skip


def _summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


def write_cifar10(root: Path, per_batch: int = 200) -> None:
    """CIFAR-10 in torchvision's on-disk layout (pickled batches + meta)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=per_batch)]
        entry = {"batch_label": name, "labels": labels, "data": data, "filenames": []}
        (folder / name).write_bytes(pickle.dumps(entry))
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
             "truck"]  # fmt: skip
    meta = {"num_cases_per_batch": per_batch, "label_names": names, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta))


@pytest.mark.gpu
def test_igpt_cifar10_gpus_1_bf16_with_samples(tmp_path: Path, run_ltx) -> None:
    write_cifar10(tmp_path / "data")
    result = run_ltx(
        "train", "igpt", "--dataset", "cifar10", "--gpus", "1", "--precision", "bf16-mixed",
        "--max-steps", "40", "-o", "run", f"dataset.data_dir={tmp_path / 'data'}",
        "dataset.download=false", "task.sample_count=4", *QUIET, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = _summary(tmp_path / "run")
    assert summary["global_step"] == 40 and summary["peak_memory_kind"] == "cuda_allocated"
    assert summary["precision"] == "bf16-mixed"
    assert list((tmp_path / "run" / "artifacts").rglob("*.png"))  # samples written


@pytest.mark.gpu
def test_gpus_1_trains_and_predicts_on_the_gpu(
    installed_example: Path, tmp_path: Path, run_ltx
) -> None:
    result = _toy(installed_example, tmp_path, "--gpus", "1", "-o", "run")
    assert result.returncode == 0, result.stderr[-3000:]
    summary = _summary(tmp_path / "run")
    assert summary["peak_memory_kind"] == "cuda_allocated" and summary["world_size"] == 1
    predicted = run_ltx(
        "predict", "--ckpt", "run/checkpoints/last.ckpt", "--accelerator", "gpu",
        "1 2 3 4 5 6 7 8", path=[installed_example], cwd=tmp_path,
    )  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    rows = [json.loads(line) for line in predicted.stdout.splitlines() if line.startswith("{")]
    assert rows and rows[0]["class"] in (0, 1)


@pytest.mark.gpu
def test_bf16_on_the_gpu(installed_example: Path, tmp_path: Path) -> None:
    result = _toy(
        installed_example, tmp_path, "--gpus", "1", "--precision", "bf16-mixed", "-o", "run"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = _summary(tmp_path / "run")
    assert summary["precision"] == "bf16-mixed" and "test_acc" in summary["metrics"]


@pytest.mark.gpu
@pytest.mark.parametrize(
    "strategy",
    [
        "fsdp",
        "trainer.strategy={class_path: FSDPStrategy, init_args: {sharding_strategy: FULL_SHARD, "
        "activation_checkpointing_policy: [torch.nn.TransformerEncoderLayer], "
        "state_dict_type: full}}",
    ],
    ids=["flag", "class-path"],
)
def test_fsdp_on_one_gpu_then_test_and_predict(
    strategy: str, installed_example: Path, tmp_path: Path, run_ltx
) -> None:
    flag = ["--strategy", strategy] if not strategy.startswith("trainer.") else [strategy]
    result = _toy(installed_example, tmp_path, "--gpus", "1", *flag, "-o", "run")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _summary(tmp_path / "run")["strategy"] == "FSDPStrategy"
    path = [installed_example]
    ckpt = "run/checkpoints/last.ckpt"
    assert Path(tmp_path / ckpt).is_file()  # one consolidated file (state_dict_type full)
    for accelerator in ("gpu", "cpu"):
        tested = run_ltx("test", "--ckpt", ckpt, "--json", "--accelerator", accelerator,
                         path=path, cwd=tmp_path)  # fmt: skip
        assert tested.returncode == 0, tested.stderr[-3000:]
        assert "test_acc" in json.loads(tested.stdout)
    predicted = run_ltx("predict", "--ckpt", ckpt, "1 1 1 1 9 9 9 9", path=path, cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr[-3000:]


@pytest.mark.gpu
@pytest.mark.parametrize("stage", ["deepspeed_stage_2", "deepspeed_stage_3"])
def test_deepspeed_on_one_gpu(stage: str, installed_example: Path, tmp_path: Path) -> None:
    pytest.importorskip("deepspeed")
    result = _toy(installed_example, tmp_path, "--gpus", "1", "--strategy", stage,
                  "--precision", "bf16-mixed", "-o", "run")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert _summary(tmp_path / "run")["strategy"] == "DeepSpeedStrategy"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without a GPU")
def test_gpu_check_stops_at_once_without_a_gpu() -> None:
    started = time.monotonic()
    proc = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_check.sh")], capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith("gpu_check: no CUDA GPU")
    assert time.monotonic() - started < 20
