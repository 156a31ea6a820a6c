"""The GPT backbone: causality, pre-LN, initialisation, generation, and the factory."""

from __future__ import annotations

import math

import pytest
import torch
from ltx_vision_igpt.config import GPTBackboneConfig
from ltx_vision_igpt.handoff import IGPTHead, PixelTokens
from ltx_vision_igpt.model import GPT, Block, GPTConfig, KVCache, build


def tiny(**kw: object) -> GPT:
    cfg = dict(block_size=12, vocab_size=7, n_layer=2, n_head=2, n_embd=16)
    cfg.update(kw)  # type: ignore[arg-type]
    torch.manual_seed(0)
    return GPT(GPTConfig(**cfg)).eval()  # type: ignore[arg-type]


@pytest.mark.parametrize("t", [0, 5, 11])
def test_pixel_t_is_predicted_from_pixels_before_t_only(t: int) -> None:
    model = tiny()
    idx = torch.randint(0, 7, (3, 12))
    changed = idx.clone()
    changed[:, t:] = (changed[:, t:] + 1) % 7  # change pixel t and everything after it
    logits, _ = model(idx)
    logits2, _ = model(changed)
    assert torch.allclose(logits[:, : t + 1], logits2[:, : t + 1], atol=1e-6)
    if t + 1 < 12:  # and later positions do see the change
        assert not torch.allclose(logits[:, t + 1 :], logits2[:, t + 1 :])


def test_block_is_pre_ln_and_leaves_the_residual_stream_unnormalised() -> None:
    block = Block(GPTConfig(n_embd=16, n_head=2))
    for proj in (block.attn.c_proj, block.mlp.c_proj):
        torch.nn.init.zeros_(proj.weight)
        torch.nn.init.zeros_(proj.bias)
    x = 5.0 + 3.0 * torch.randn(2, 4, 16)
    # With both branches silenced a pre-LN block is the identity; the original's
    # `x = ln_1(x); x = x + attn(x)` would have returned ln_1(x).
    assert torch.allclose(block(x), x)


def test_loss_is_next_pixel_cross_entropy_and_shapes_are_batch_first() -> None:
    model = tiny()
    idx = torch.randint(0, 7, (4, 12))
    logits, loss = model(idx, idx)
    assert logits.shape == (4, 12, 7)
    assert loss is not None
    ref = torch.nn.functional.cross_entropy(logits.reshape(-1, 7), idx.reshape(-1))
    assert torch.isclose(loss, ref)
    # an untrained model is close to uniform over the palette
    assert abs(loss.item() - math.log(7)) < 0.3


def test_gpt2_init_scales_residual_projections() -> None:
    model = tiny(n_layer=8, n_embd=64, n_head=4)
    std = model.h[0].attn.c_proj.weight.std().item()
    assert abs(std - 0.02 / math.sqrt(16)) < 0.002
    assert abs(model.h[0].attn.c_attn.weight.std().item() - 0.02) < 0.002


def test_features_of_a_middle_layer_and_classifier() -> None:
    model = tiny(n_classes=3)
    idx = torch.randint(0, 7, (2, 12))
    assert model.features(idx, layer=1).shape == (2, 12, 16)
    assert model.classify(model.features(idx)).shape == (2, 3)
    with pytest.raises(RuntimeError, match="classification head"):
        tiny().classify(torch.zeros(2, 12, 16))


def test_generate_keeps_the_prefix_and_fills_the_image() -> None:
    model = tiny()
    prefix = torch.randint(0, 7, (3, 4))
    gen = torch.Generator().manual_seed(0)
    out = model.generate(prefix, 8, generator=gen)
    assert out.shape == (3, 12)
    assert torch.equal(out[:, :4], prefix)
    assert int(out.min()) >= 0 and int(out.max()) < 7
    again = model.generate(prefix, 8, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)


def test_generate_with_top_k_1_is_greedy_and_matches_the_forward_pass() -> None:
    model = tiny()
    out = model.generate(torch.zeros(2, 0, dtype=torch.long), 12, top_k=1)
    logits, _ = model(out)
    # each sampled pixel is the argmax of the distribution the model gives for it
    assert torch.equal(logits.argmax(-1), out)


def test_generate_samples_only_among_the_top_k_of_the_full_forward_pass() -> None:
    model = tiny()
    gen = torch.Generator().manual_seed(1)
    out = model.generate(torch.randint(0, 7, (8, 3)), 9, top_k=2, temperature=5.0, generator=gen)
    logits, _ = model(out)  # no cache: the reference for the cached generation loop
    top2 = logits.topk(2, dim=-1).indices  # (B, T, 2)
    sampled = out.unsqueeze(-1)
    assert bool((top2 == sampled).any(-1)[:, 3:].all())
    # with a high temperature both of the two are drawn somewhere
    assert bool((top2[:, 3:, 1:] == sampled[:, 3:]).any())


@pytest.mark.parametrize("prefix_len", [0, 5])
def test_cached_sampling_draws_the_same_tokens_as_full_forward_passes(prefix_len: int) -> None:
    model = tiny()
    prefix = torch.randint(0, 7, (4, prefix_len))
    kw = dict(temperature=0.9, top_k=5)
    cached = model.generate(
        prefix, 12 - prefix_len, generator=torch.Generator().manual_seed(3), **kw
    )
    full = model.generate(
        prefix, 12 - prefix_len, generator=torch.Generator().manual_seed(3), use_cache=False, **kw
    )
    assert torch.equal(cached, full)


def test_sampling_writes_each_pixel_into_a_preallocated_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One position per layer per new pixel: the cache grows by writes, never by copies.
    model = tiny()
    seen: list[tuple[int, int, int]] = []
    original = KVCache.append

    def spy(self: KVCache, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        assert self.k is None or self.k.shape[2] == 12  # allocated once, for the whole image
        seen.append((self.len, k.shape[2], id(self)))
        return original(self, k, v)

    monkeypatch.setattr(KVCache, "append", spy)
    model.generate(torch.zeros(2, 4, dtype=torch.long), 8)
    n_layer = model.config.n_layer
    assert [t for _, t, _ in seen[:n_layer]] == [5] * n_layer  # prefill: start vector + 4
    assert all(t == 1 for _, t, _ in seen[n_layer:])
    assert len(seen) == n_layer * 8  # the last pixel is sampled, never fed back


def test_attention_has_no_dropout_so_long_images_stay_on_the_fused_kernel() -> None:
    # Dropout on the attention probabilities sends CPU attention to the kernel that
    # materialises (B, nh, T, T): gigabytes at 784-1024 pixels. In training mode the
    # attention output must therefore be deterministic; only residuals drop out.
    attn = tiny(dropout=0.5).h[0].attn.train()
    attn.resid_dropout.eval()
    x = torch.randn(2, 6, 16)
    assert torch.equal(attn(x), attn(x))


def test_generate_refuses_to_run_past_the_image() -> None:
    with pytest.raises(ValueError, match="past the image"):
        tiny().generate(torch.zeros(1, 10, dtype=torch.long), 5)
    with pytest.raises(ValueError, match="temperature"):
        tiny().generate(torch.zeros(1, 0, dtype=torch.long), 2, temperature=0)


def test_build_sizes_positions_and_heads_from_the_dataset() -> None:
    cfg = GPTBackboneConfig(n_layer=1, n_head=2, n_embd=8)
    data = PixelTokens(seq_len=100, vocab_size=32, num_classes=5)
    model = build(cfg, data)
    assert model.wpe.num_embeddings == 100
    assert model.wte.num_embeddings == 32
    assert model.classifier is None  # only the classify mode asks for a head
    with_head = build(cfg, data, request=IGPTHead(classifier=True))
    assert with_head.classifier is not None and with_head.classifier.out_features == 5


def test_backbone_config_rejects_heads_that_do_not_divide_the_width() -> None:
    with pytest.raises(ValueError, match="divisible"):
        GPTBackboneConfig(n_embd=10, n_head=3)


def test_backward_reaches_every_parameter_in_the_joint_loss() -> None:
    model = tiny(n_classes=3).train()
    idx = torch.randint(0, 7, (2, 12))
    hidden = model.features(idx)
    loss = model(idx, idx)[1] + model.classify(hidden).logsumexp(-1).mean()
    assert loss is not None
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
