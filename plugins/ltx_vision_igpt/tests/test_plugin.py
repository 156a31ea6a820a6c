"""Registration: names, torch-free listing, presets, and the core's conformance kit."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from ltx_vision_igpt.handoff import PixelTokens
from ltx_vision_igpt.model import build

from ltx_core.authoring.conformance import (
    check_component,
    check_no_torch_on_listing,
    check_task_runs,
)
from ltx_core.config.resolve import resolve_config
from ltx_core.registry import get_registry

DATASETS = ["digits", "cifar10", "mnist", "fashion-mnist", "image-folder"]
BACKBONES = ["gpt2", "igpt-orig", "igpt-s", "igpt-m", "igpt-l"]


def _ours() -> list:
    return [s for s in get_registry().components() if s.plugin == "igpt"]


def test_registers_the_task_its_datasets_and_backbones() -> None:
    reg = get_registry()
    assert not [f for f in reg.failures if f.plugin == "igpt"]
    names = {(s.kind, s.name) for s in _ours()}
    assert names == {("task", "igpt")} | {("dataset", d) for d in DATASETS} | {
        ("backbone", b) for b in BACKBONES
    }
    task = reg.get("task", "igpt")
    assert (task.default_dataset, task.default_backbone) == ("digits", "gpt2")
    assert all(s.fits == ("igpt",) for s in _ours() if s.kind != "task")


def test_listing_imports_no_torch() -> None:
    check_no_torch_on_listing("igpt")


@pytest.mark.parametrize("name", ["task:igpt"] + [f"dataset:{d}" for d in DATASETS]
                         + [f"backbone:{b}" for b in BACKBONES])  # fmt: skip
def test_component_configs_are_complete(name: str) -> None:
    kind, _, bare = name.partition(":")
    check_component(get_registry().get(kind, bare))


@pytest.mark.parametrize(
    ("backbone", "params_m"),
    [("igpt-orig", 0.043), ("igpt-s", 76), ("igpt-m", 455), ("igpt-l", 1400)],
)
def test_backbone_presets_have_their_published_sizes(backbone: str, params_m: float) -> None:
    cfg = resolve_config("igpt", dataset="cifar10", backbone=backbone).config.backbone
    # The paper's models: 512 colours over 32x32 images; the original example: 16 colours.
    vocab = 16 if backbone == "igpt-orig" else 512
    data = PixelTokens(seq_len=1024, vocab_size=vocab, num_classes=10)
    with torch.device("meta"):  # shapes only: no memory for 1.4B parameters
        model = build(cfg, data)
    n = model.num_params() / 1e6
    assert abs(n - params_m) / params_m < 0.1, n


def test_default_run_is_the_tuned_digits_classifier() -> None:
    cfg = resolve_config("igpt").config
    assert cfg.task.mode == "classify"
    assert cfg.dataset.name == "igpt:digits" and cfg.backbone.name == "igpt:gpt2"
    # Task defaults for the dataset apply to the default dataset only.
    assert resolve_config("igpt", dataset="cifar10").config.dataset.batch_size == 64


def test_conformance_smoke_run_then_test_and_predict_from_the_checkpoint(tmp_path: Path) -> None:
    summary = check_task_runs(get_registry().get("task", "igpt"), tmp_path)
    assert {"test_acc", "test_bpd", "val_acc"} <= set(summary["metrics"])
    run = tmp_path / "conformance-igpt"
    assert (run / "artifacts" / "samples.png").is_file()
    assert (run / "artifacts" / "completions.png").is_file()
    assert (run / "predictions" / "completions.png").is_file()
