"""The losses from the trained tokens' logits equal transformers' own (padded and packed
batches, each way of computing them, under LoRA too), with the same gradients; only the
trained tokens reach the output layer; a model that changes its logits after the output
layer is noticed and gets its own logits."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
from ltx_llm.loss import TrainedLogits, answer_logps, trained_token_loss
from ltx_llm.rendering import IGNORE


def _batch(vocab: int, *, packed: bool) -> tuple[dict[str, Any], torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab, (3, 24), generator=gen)
    labels = torch.full_like(ids, IGNORE)
    # A few trained spans (answers) at different places in each row.
    labels[0, 10:14] = ids[0, 10:14]
    labels[1, 18:24] = ids[1, 18:24]
    labels[2, 4:6] = ids[2, 4:6]
    labels[2, 20:22] = ids[2, 20:22]
    if packed:  # two sequences per row, positions restarting (no attention mask)
        positions = torch.cat([torch.arange(12), torch.arange(12)]).repeat(3, 1)
        return {"input_ids": ids, "position_ids": positions}, labels
    mask = torch.ones_like(ids)
    mask[2, :3] = 0  # left padding in one row
    labels[2, :3] = IGNORE
    return {"input_ids": ids, "attention_mask": mask}, labels


@pytest.mark.parametrize("mode", ["hidden", "positions", "full"])
@pytest.mark.parametrize("packed", [False, True])
def test_same_loss_and_gradients_as_transformers(tiny_llama: Any, packed: bool, mode: str) -> None:
    model = tiny_llama.train()
    inputs, labels = _batch(model.config.vocab_size, packed=packed)
    try:
        model.zero_grad()
        theirs = model(**inputs, labels=labels, use_cache=False).loss
        theirs.backward()
        their_grads = [p.grad.clone() for p in model.parameters()]
        model.zero_grad()
        ours = trained_token_loss(model, inputs, labels, TrainedLogits(mode))
        ours.backward()
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
        for mine, their in zip((p.grad for p in model.parameters()), their_grads, strict=True):
            torch.testing.assert_close(mine, their, rtol=1e-4, atol=1e-6)
    finally:
        model.zero_grad(set_to_none=True)
        model.eval()


def test_only_the_trained_tokens_reach_the_output_layer(tiny_llama: Any) -> None:
    seen: list[tuple[int, ...]] = []
    hook = tiny_llama.lm_head.register_forward_hook(lambda m, i, out: seen.append(out.shape))
    try:
        inputs, labels = _batch(tiny_llama.config.vocab_size, packed=False)
        logits = TrainedLogits()
        with torch.no_grad():
            trained_token_loss(tiny_llama, inputs, labels, logits)
        assert logits.mode == "hidden"
        seen.clear()  # the first batch also checked the way (one position per row)
        with torch.no_grad():
            trained_token_loss(tiny_llama, inputs, labels, logits)
        # 4 + 6 + 4 trained tokens, whatever their positions.
        assert seen == [torch.Size([14, tiny_llama.config.vocab_size])]
    finally:
        hook.remove()


def test_a_model_that_scales_its_logits_gets_them_all(tiny_llama: Any) -> None:
    class Scaled(type(tiny_llama)):  # type: ignore[misc]
        def forward(self, *args: Any, **kwargs: Any) -> Any:
            out = super().forward(*args, **kwargs)
            out.logits = out.logits * 0.5
            return out

    model = Scaled(tiny_llama.config)
    model.load_state_dict(tiny_llama.state_dict())
    model.eval()
    inputs, labels = _batch(tiny_llama.config.vocab_size, packed=False)
    logits = TrainedLogits()
    with torch.no_grad():
        ours = trained_token_loss(model, inputs, labels, logits)
        theirs = model(**inputs, labels=labels, use_cache=False).loss
    assert logits.mode == "full"  # its forward takes no logits_to_keep either
    # transformers' own loss is computed before the override scales the logits: compare
    # with the scaled logits' loss instead.
    full = trained_token_loss(model, inputs, labels, TrainedLogits("full"))
    torch.testing.assert_close(ours, full, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(ours, theirs)


def test_under_lora(tiny_llama: Any) -> None:
    from peft import LoraConfig, get_peft_model

    lora = get_peft_model(
        copy.deepcopy(tiny_llama), LoraConfig(r=4, target_modules=["q_proj", "lm_head"])
    )
    inputs, labels = _batch(tiny_llama.config.vocab_size, packed=False)
    logits = TrainedLogits()
    with torch.no_grad():
        kept = trained_token_loss(lora, inputs, labels, logits)
        full = trained_token_loss(lora, inputs, labels, TrainedLogits("full"))
    assert logits.mode == "hidden"
    torch.testing.assert_close(kept, full, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["hidden", "positions"])
def test_answer_logps_from_the_trained_tokens(tiny_llama: Any, mode: str) -> None:
    """DPO's per-row answer log-probabilities: the same as from every position's logits."""
    inputs, labels = _batch(tiny_llama.config.vocab_size, packed=False)
    with torch.no_grad():
        full, full_counts = answer_logps(tiny_llama, inputs, labels, TrainedLogits("full"))
        kept, counts = answer_logps(tiny_llama, inputs, labels, TrainedLogits(mode))
    torch.testing.assert_close(kept, full, rtol=1e-5, atol=1e-5)
    assert counts.tolist() == full_counts.tolist() == [4, 6, 4]
