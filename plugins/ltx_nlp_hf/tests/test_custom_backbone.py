"""A backbone that is not a Hugging Face model, from another author's plugin, trains
``text-classification`` to the end with the default export setting: the run exits 0 with
its ``summary.json``, and the Hugging Face export is skipped with one sentence."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ltx_core.cli.testing import QUIET

PLUGIN = '''\
"""A bag-of-embeddings backbone for text-classification (not a Hugging Face model)."""

from types import SimpleNamespace

import torch
from pydantic import Field
from torch import nn
from torch.nn import functional as F

from ltx_core.config.models import LtxConfig
from ltx_core.registry.hookspecs import hookimpl
from ltx_nlp_hf.handoff import TextClassificationData

LTX_PLUGIN_API = 1


class BagConfig(LtxConfig):
    dim: int = Field(16, ge=1, description="Embedding width.")


class BagOfEmbeddings(nn.Module):
    """What text-classification asks of a backbone: forward(input_ids, attention_mask,
    labels=None) returning .logits (batch, labels) and, given labels, .loss."""

    def __init__(self, vocab: int, dim: int, labels: int) -> None:
        super().__init__()
        self.bag = nn.EmbeddingBag(vocab, dim, mode="sum")
        self.head = nn.Linear(dim, labels)

    def forward(self, input_ids, attention_mask=None, labels=None):
        weights = torch.ones_like(input_ids, dtype=torch.float) if attention_mask is None else attention_mask.float()
        summed = self.bag(input_ids, per_sample_weights=weights)
        logits = self.head(summed / weights.sum(1, keepdim=True).clamp(min=1))
        loss = None if labels is None else F.cross_entropy(logits, labels)
        return SimpleNamespace(logits=logits, loss=loss)


def build(config: BagConfig, data: TextClassificationData, *, request, restore):
    return BagOfEmbeddings(data.vocab_size, config.dim, data.num_labels)


@hookimpl
def register_backbones(register):
    register("bag", target="ltx_bag_backbone:build", config="ltx_bag_backbone:BagConfig",
             summary="Mean of token embeddings.", fits=["text-classification"])
'''


@pytest.fixture
def bag_plugin(tmp_path: Path, ltx_plugin: Callable[..., None]) -> Iterator[None]:
    folder = tmp_path / "bag-src"
    folder.mkdir()
    (folder / "ltx_bag_backbone.py").write_text(PLUGIN)
    sys.path.insert(0, str(folder))
    try:
        import ltx_bag_backbone

        ltx_plugin("bag", ltx_bag_backbone, "ltx-bag", "1.0")
        yield
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("ltx_bag_backbone", None)


@pytest.mark.slow
def test_a_custom_backbone_trains_to_the_end_and_the_export_is_skipped(
    bag_plugin: None, ltx_cli: Callable[..., object], caplog: pytest.LogCaptureFixture
) -> None:
    args = ["train", "text-classification", "--dataset", "sst2-sample", "--backbone", "bag",
            "--tokenizer", "hf-auto", "--accelerator", "cpu", "--max-steps", "4", "-o", "run",
            "dataset.limit_train_samples=64", "dataset.limit_val_samples=16",
            "dataset.limit_test_samples=16", *QUIET]  # fmt: skip
    with caplog.at_level(logging.WARNING):
        result: object = ltx_cli(*args)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    summary = json.loads(Path("run/summary.json").read_text())
    assert "test_acc" in summary["metrics"] and "val_acc" in summary["metrics"]
    assert "artifacts_error" not in summary
    assert not Path("run/artifacts/hf_model").exists()
    skipped = [
        r.getMessage()
        for r in caplog.records
        if "Skipped the Hugging Face export" in r.getMessage()
    ]
    assert skipped == [
        "Skipped the Hugging Face export: the backbone BagOfEmbeddings is not a Hugging Face "
        "model (it has no save_pretrained); set task.export_hf=false to say so."
    ]
