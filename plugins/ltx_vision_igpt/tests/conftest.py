"""Shared fixtures: every test runs with ltx's fixtures (the pytest plugin that ships with
ltx-core: its own folder and registry, the session's cache, where palettes and downloads
go); and real datasets written in torchvision's layout."""

from __future__ import annotations

import os

# Must precede the first torch import (libgomp reads it once). On a shared CPU, spinning
# OpenMP workers make every small op wait for a descheduled thread: the CLI test took
# 386 s instead of 4 s while another process held a core. Passive waiting costs nothing
# when the machine is idle. (Without effect when torch was imported before this file.)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pickle
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _ltx(ltx_env: Path, ltx_cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test in its own folder and registry. Palettes are keyed by the pixels they were
    fitted on, so the session's cache is shared safely and each dataset's k-means runs once;
    downloaded datasets go there too, never to ``~/.cache``."""
    monkeypatch.setenv("LTX_DATA_DIR", str(ltx_cache_dir / "data"))
    yield


CIFAR_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip


def write_cifar10(root: Path, per_batch: int = 4, n_test: int = 6, seed: int = 0) -> np.ndarray:
    """Write a tiny CIFAR-10 exactly as the official archive unpacks: pickled batches + meta.

    Returns the first training batch's rows (N, 3072), for checking what was read.
    """
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    first = None

    def batch(name: str, n: int) -> np.ndarray:
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=n)]
        entry = {"batch_label": name, "labels": labels, "data": data, "filenames": []}
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f)
        return data

    for i in range(1, 6):
        data = batch(f"data_batch_{i}", per_batch)
        first = data if first is None else first
    batch("test_batch", n_test)
    meta = {"num_cases_per_batch": per_batch, "label_names": CIFAR_CLASSES, "num_vis": 3072}
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(meta, f)
    assert first is not None
    return first


def write_mnist(root: Path, name: str = "MNIST", n_train: int = 30, n_test: int = 10) -> None:
    """Write tiny MNIST-format idx files under root/NAME/raw, as torchvision stores them."""
    rng = np.random.default_rng(1)
    raw = root / name / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes()
        )
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            struct.pack(">II", 2049, n) + labels.tobytes()
        )


@pytest.fixture
def cifar10_dir(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A data_dir holding a tiny CIFAR-10 (5 x 4 training, 6 test images)."""
    first = write_cifar10(tmp_path / "data")
    return tmp_path / "data", first


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    """A data_dir holding tiny MNIST and Fashion-MNIST copies."""
    write_mnist(tmp_path / "data", "MNIST")
    write_mnist(tmp_path / "data", "FashionMNIST")
    return tmp_path / "data"


@pytest.fixture
def write_datasets() -> tuple[Any, Any]:
    """The writers above, for tests that need copies of other sizes: (cifar10, mnist)."""
    return write_cifar10, write_mnist
