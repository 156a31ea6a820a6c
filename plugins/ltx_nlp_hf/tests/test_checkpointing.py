"""``backbone.gradient_checkpointing`` on a Hugging Face backbone (the packaged MiniLM)
changes no outputs: the same loss and gradients, with and without, also under LoRA
(where the frozen embeddings would starve reentrant checkpointing of gradients)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from ltx_nlp_hf.backbones import build_hf_backbone
from ltx_nlp_hf.config.models import HFBackboneConfig
from ltx_nlp_hf.handoff import HeadRequest, LabelledData
from ltx_nlp_hf.peft_support import base_model


def _model(**options: Any) -> Any:
    data = LabelledData(
        vocab_size=30522, pad_token_id=0, eos_token_id=None, bos_token_id=None, max_length=32,
        num_labels=2, id2label={0: "negative", 1: "positive"},
        label_names=["negative", "positive"], label_kind="int",
    )  # fmt: skip
    torch.manual_seed(0)  # the new head's initial weights
    config = HFBackboneConfig(config_overrides={"hidden_dropout_prob": 0.0}, **options)
    built = build_hf_backbone(
        config, data, request=HeadRequest(head="sequence-classification"), restore=None
    )
    return built.module


def _loss_and_grads(model: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    torch.manual_seed(1)
    ids = torch.randint(1000, 5000, (4, 32))
    out = model(
        input_ids=ids, attention_mask=torch.ones_like(ids), labels=torch.tensor([0, 1, 1, 0])
    )
    out.loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.requires_grad}
    return out.loss.detach(), grads


@pytest.mark.slow
@pytest.mark.parametrize("peft", [None, {"method": "lora"}])
def test_checkpointing_gives_the_same_loss_and_gradients(peft: dict | None) -> None:
    plain = _model(peft=peft)
    ckpt = _model(peft=peft, gradient_checkpointing=True)
    assert base_model(ckpt).bert.encoder.layer[0].gradient_checkpointing
    assert not base_model(plain).bert.encoder.layer[0].gradient_checkpointing
    loss_a, grads_a = _loss_and_grads(plain)
    loss_b, grads_b = _loss_and_grads(ckpt)
    assert torch.allclose(loss_a, loss_b, atol=1e-6)
    assert grads_a.keys() == grads_b.keys() and grads_a
    for name, grad in grads_a.items():
        assert grads_b[name] is not None, name
        assert torch.allclose(grad, grads_b[name], atol=1e-5, rtol=1e-4), name
