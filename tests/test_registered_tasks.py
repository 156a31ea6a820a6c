"""Every registered task gets a tiny CPU smoke run for free: the conformance kit's
``check_task_runs`` (its spec's ``smoke`` settings: train, then ``ltx test`` and
``ltx predict`` from the checkpoint alone), then the checkpoint's ``Predictor.replica``.
Parametrised over the registry, so a new plugin is covered without anyone writing a
test for it."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from ltx_core import registry
from ltx_core.authoring.conformance import check_task_runs
from ltx_core.registry.spec import TaskSpec

from .conftest import example_registered


def _task_names() -> list[str]:
    with example_registered():
        return [spec.qualified_name for spec in registry.get_registry().components("task")]


@pytest.mark.parametrize("task", _task_names())
def test_every_task_smoke_trains_and_tests(task: str, example_plugin: None, tmp_path: Path) -> None:
    spec = registry.get_registry().task(task)
    with warnings.catch_warnings():
        # Our plugins are on the current API: none of its deprecation warnings may fire.
        warnings.filterwarnings(
            "error", message=r".*(migration notes|is deprecated;)", category=DeprecationWarning
        )
        summary = check_task_runs(spec, tmp_path)
    assert any(k.startswith(("val_", "test_")) for k in summary["metrics"]), summary["metrics"]
    # The same run's checkpoint: no second training run for the replica's check.
    ckpt = tmp_path / f"conformance-{spec.name}" / "checkpoints" / "last.ckpt"
    _check_replica(spec, ckpt, tmp_path)


def _check_replica(spec: TaskSpec, ckpt: Path, out: Path) -> None:
    """``Predictor.replica`` (a second model thread of ``ltx serve`` on the CPU): its own
    copy of the task, holding the very same weight tensors, predicting the same."""
    import json

    import torch

    from ltx_core.inference.predict import predict_given
    from ltx_core.inference.predictor import Predictor

    first = Predictor.from_checkpoint(ckpt, accelerator="cpu", out_dir=out / "p1")
    second = first.replica()
    assert second.module is not first.module
    pairs = list(zip(first.module.parameters(), second.module.parameters(), strict=True))
    assert pairs and all(a is b for a, b in pairs)
    tokenizer = getattr(first.module, "tokenizer", None)
    if tokenizer is not None:  # never shared between threads
        assert second.module.tokenizer is not tokenizer
    assert (second.precision, second.precision_reason) == (
        first.precision,
        first.precision_reason,
    )
    results = []
    for predictor in (first, second):
        torch.manual_seed(0)  # tasks that sample draw the same
        outputs = predict_given(predictor, list(spec.examples), predictor.parse_options({}))
        results.append(json.dumps(outputs, default=str, sort_keys=True))
    assert results[0] == results[1]
