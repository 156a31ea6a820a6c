"""Activation checkpointing of the GPT (``backbone.gradient_checkpointing``) changes no
outputs: the same loss and gradients to float tolerance, with and without, in fp32 and
under bf16 autocast; and the config reaches the model."""

from __future__ import annotations

import pytest
import torch
from ltx_vision_igpt.config import GPTBackboneConfig
from ltx_vision_igpt.handoff import PixelTokens
from ltx_vision_igpt.model import GPT, GPTConfig, build


def _loss_and_grads(model: GPT, idx: torch.Tensor, dtype: torch.dtype | None) -> tuple:
    model.zero_grad()
    with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        _, loss = model(idx, idx)
    loss.backward()
    return loss.detach().float(), {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("dtype", [None, torch.bfloat16])
def test_checkpointing_gives_the_same_loss_and_gradients(dtype: torch.dtype | None) -> None:
    torch.manual_seed(0)
    cfg = GPTConfig(block_size=64, vocab_size=16, n_layer=3, n_head=2, n_embd=32, dropout=0.1)
    plain = GPT(cfg)
    ckpt = GPT(GPTConfig(**{**cfg.__dict__, "gradient_checkpointing": True}))
    ckpt.load_state_dict(plain.state_dict())
    idx = torch.randint(0, 16, (4, 64))
    torch.manual_seed(1)  # dropout draws the same masks: checkpointing replays the RNG
    loss_a, grads_a = _loss_and_grads(plain.train(), idx, dtype)
    torch.manual_seed(1)
    loss_b, grads_b = _loss_and_grads(ckpt.train(), idx, dtype)
    tol = 1e-6 if dtype is None else 1e-2
    assert torch.allclose(loss_a, loss_b, atol=tol)
    for name, grad in grads_a.items():
        assert torch.allclose(grad.float(), grads_b[name].float(), atol=tol, rtol=tol), name


def test_the_config_switches_it_on_for_training_only() -> None:
    data = PixelTokens(seq_len=64, vocab_size=16, num_classes=10)
    model = build(GPTBackboneConfig(gradient_checkpointing=True), data)
    assert model.config.gradient_checkpointing
    idx = torch.randint(0, 16, (2, 64))
    with torch.no_grad():  # evaluation and sampling never recompute
        logits, _ = model.eval()(idx)
    assert logits.shape == (2, 64, 16)
