"""The image-GPT backbone in one file, in reading order: attention, MLP, block, config, model.

nanoGPT-style: pre-LayerNorm residuals, batch-first tensors, causal attention
through ``F.scaled_dot_product_attention(is_causal=True)`` (no mask tensor is
ever materialised), GPT-2 initialisation with the residual projections scaled
by ``1/sqrt(2 * n_layer)``.

What makes it an *image* GPT (as in the iGPT paper and the Lightning
Transformers example it comes from): the inputs are palette indices of the
pixels in raster order, position 0 reads a learned start-of-sequence vector
instead of a token, so the logits at position ``t`` are the distribution of
pixel ``t`` given pixels ``< t``; and an optional classification head reads
the mean-pooled sequence.

:func:`build` is the backbone factory the registry points at.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from ltx_core.handoff import Restore
from ltx_vision_igpt.config import GPTBackboneConfig
from ltx_vision_igpt.handoff import IGPTHead, PixelTokens

__all__ = ["GPT", "GPTConfig", "KVCache", "build"]


class KVCache:
    """One layer's keys and values during generation, preallocated for the whole image.

    Writing each new position into a fixed buffer keeps sampling linear in the image's
    length; concatenating onto the past every step would copy the whole cache each time.
    """

    def __init__(self, max_len: int) -> None:
        self.max_len = max_len
        self.len = 0
        self.k: Tensor | None = None
        self.v: Tensor | None = None

    def append(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Store ``k``, ``v`` (B, nh, T, hs) after the past ones; return all so far."""
        if self.k is None or self.v is None:
            # Allocated on first use, in the dtype the layer computes in (autocast or not).
            B, nh, _, hs = k.shape
            self.k = k.new_empty(B, nh, self.max_len, hs)  # (B, nh, T_max, hs)
            self.v = v.new_empty(B, nh, self.max_len, hs)  # (B, nh, T_max, hs)
        end = self.len + k.shape[2]
        self.k[:, :, self.len : end] = k
        self.v[:, :, self.len : end] = v
        self.len = end
        return self.k[:, :, :end], self.v[:, :, :end]  # (B, nh, past + T, hs)


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t attends to positions <= t.

    No dropout on the attention probabilities: on a CPU, ``scaled_dot_product_attention``
    with dropout falls back to the kernel that materialises every (T, T) score matrix,
    which at 784-1024 pixels costs gigabytes and ~15x the time of a step without it.
    Embeddings and residuals carry the dropout instead (``GPTConfig.dropout``).
    """

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        if cfg.n_embd % cfg.n_head:
            raise ValueError(f"n_embd ({cfg.n_embd}) must be divisible by n_head ({cfg.n_head}).")
        self.n_head = cfg.n_head
        # q, k, v for all heads in one matmul
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.resid_dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: Tensor, cache: KVCache | None = None) -> Tensor:
        """``cache``: this layer's past keys and values during generation (appended to)."""
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)  # 3 x (B, T, C)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        past = 0
        if cache is not None:
            past = cache.len
            if past and T != 1:
                raise ValueError("With cached keys, feed one new position at a time.")
            k, v = cache.append(k, v)  # (B, nh, past + T, hs)
        # One new position after cached ones may see all of them: no mask at all.
        y = F.scaled_dot_product_attention(q, k, v, is_causal=past == 0)  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """Position-wise feed-forward: expand, GELU, project back."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        hidden = cfg.mlp_ratio * cfg.n_embd
        self.c_fc = nn.Linear(cfg.n_embd, hidden, bias=cfg.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(hidden, cfg.n_embd, bias=cfg.bias)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-LN transformer block: the residual stream is never normalised in place."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.mlp = MLP(cfg)

    def forward(self, x: Tensor, cache: KVCache | None = None) -> Tensor:
        # The original example wrote x = ln_1(x); x = x + attn(x), which normalises
        # the residual stream itself (post-LN by accident); pre-LN keeps it intact.
        x = x + self.attn(self.ln_1(x), cache)
        x = x + self.mlp(self.ln_2(x))
        return x


@dataclass
class GPTConfig:
    """Everything the model's shape depends on."""

    # From the dataset: one position per pixel, one token per palette colour.
    block_size: int = 64
    vocab_size: int = 16
    # 0: no classification head (generative training must not carry unused
    # parameters, or DDP would have to search for them every step).
    n_classes: int = 0
    # Width and depth; the original example used 16 / 2 / 8.
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 64
    mlp_ratio: int = 4
    # On embeddings and residuals (not attention probabilities, see CausalSelfAttention).
    # Small datasets (8x8 digits) overfit without it; large ones train with 0.
    dropout: float = 0.0
    # Biases in linears and LayerNorms, as in GPT-2.
    bias: bool = True
    # Recompute each block's activations in the backward pass instead of keeping them:
    # peak memory falls from one set per block to about one block's, for ~1/3 more compute.
    gradient_checkpointing: bool = False


class GPT(nn.Module):
    """Autoregressive transformer over pixel tokens with an optional classification head."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        if cfg.block_size < 1 or cfg.vocab_size < 1:
            raise ValueError("block_size and vocab_size must be at least 1.")
        self.config = cfg
        # Learned start-of-sequence vector: position 0 predicts the first pixel from it.
        self.sos = nn.Parameter(torch.zeros(cfg.n_embd))
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        # Sized from the dataset's sequence length, never from an unrelated setting.
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.h = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.classifier = nn.Linear(cfg.n_embd, cfg.n_classes) if cfg.n_classes > 0 else None
        self.apply(self._init_weights)
        nn.init.normal_(self.sos, mean=0.0, std=0.02)
        # GPT-2: scale residual projections so the stream's variance does not grow with depth.
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def features(self, idx: Tensor, layer: int | None = None) -> Tensor:
        """Hidden states ``(B, T, n_embd)``: after ``layer`` blocks, or final-normed if None.

        Position ``t`` has seen the start vector and pixels ``< t`` only.
        """
        B, T = idx.shape
        if self.config.block_size < T:
            raise ValueError(
                f"Sequence of {T} pixels is longer than the model's {self.config.block_size}."
            )
        tok = self.wte(idx[:, :-1])  # (B, T-1, C): the last pixel is never an input
        sos = self.sos.view(1, 1, -1).expand(B, 1, -1)  # (B, 1, C)
        x = torch.cat([sos, tok], dim=1) + self.wpe.weight[:T]  # (B, T, C)
        x = self.drop(x)
        n = len(self.h) if layer is None else layer
        recompute = self.config.gradient_checkpointing and self.training and torch.is_grad_enabled()
        for block in self.h[:n]:
            # Non-reentrant checkpointing: works with autocast and frozen inputs alike.
            x = checkpoint(block, x, use_reentrant=False) if recompute else block(x)
        return self.ln_f(x) if layer is None else x

    def forward(self, idx: Tensor, targets: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """``idx`` (B, T) pixel tokens -> logits (B, T, vocab) and, with targets, the loss.

        ``logits[:, t]`` predicts pixel ``t``, so the usual targets are ``idx`` itself.
        """
        logits = self.lm_head(self.features(idx))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss

    def classify(self, hidden: Tensor) -> Tensor:
        """Class logits ``(B, n_classes)`` from hidden states ``(B, T, C)``, mean-pooled."""
        if self.classifier is None:
            raise RuntimeError("This model was built without a classification head.")
        return self.classifier(hidden.mean(dim=1))

    @torch.no_grad()
    def generate(
        self,
        idx: Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
        *,
        use_cache: bool = True,
    ) -> Tensor:
        """Extend ``idx`` (B, t0) by sampling ``max_new_tokens`` pixels; ``t0`` may be 0.

        Keys and values are cached per layer, so each new pixel costs one position's
        forward pass rather than the whole prefix's (1024 pixels for a CIFAR image).
        ``use_cache=False`` runs the full forward pass for every pixel instead: the
        reference the cached path is tested against.
        """
        if temperature <= 0:
            raise ValueError("temperature must be positive.")
        B, t0 = idx.shape
        total = t0 + max_new_tokens
        if total > self.config.block_size:
            raise ValueError(
                f"Cannot generate past the image: {t0} + {max_new_tokens} > "
                f"{self.config.block_size} pixels."
            )
        if max_new_tokens <= 0:
            return idx
        out = idx.new_empty(B, total)
        out[:, :t0] = idx
        if not use_cache:
            for t in range(t0, total):
                # forward() never reads the last position's token, so out[:, t] may be junk.
                logits, _ = self(out[:, : t + 1])
                out[:, t] = self._sample(logits[:, t], temperature, top_k, generator)
            return out
        caches = [KVCache(total) for _ in self.h]
        # Prefill: the start vector and the given pixels, positions 0..t0.
        sos = self.sos.view(1, 1, -1).expand(B, 1, -1)  # (B, 1, C)
        x = torch.cat([sos, self.wte(idx)], dim=1) + self.wpe.weight[: t0 + 1]  # (B, t0+1, C)
        for t in range(t0, total):
            for block, cache in zip(self.h, caches, strict=True):
                x = block(x, cache)
            logits = self.lm_head(self.ln_f(x[:, -1]))  # (B, vocab): pixel t
            out[:, t] = self._sample(logits, temperature, top_k, generator)
            if t + 1 < total:
                x = self.wte(out[:, t : t + 1]) + self.wpe.weight[t + 1]  # (B, 1, C): reads pixel t
        return out

    @staticmethod
    def _sample(
        logits: Tensor, temperature: float, top_k: int | None, generator: torch.Generator | None
    ) -> Tensor:
        """One token per row of ``logits`` (B, vocab) -> (B,)."""
        logits = logits / temperature
        if top_k is not None and top_k < logits.shape[-1]:
            kth = torch.topk(logits, top_k).values[:, -1:]  # (B, 1)
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = F.softmax(logits.float(), dim=-1)
        return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(1)


def build(
    config: GPTBackboneConfig,
    data: PixelTokens,
    *,
    request: IGPTHead | None = None,
    restore: Restore | None = None,
) -> GPT:
    """Backbone factory: the ``gpt2`` / ``igpt-*`` config plus the dataset's hand-off."""
    n_classes = data.num_classes if request is not None and request.classifier else 0
    cfg = GPTConfig(
        block_size=data.seq_len,
        vocab_size=data.vocab_size,
        n_classes=n_classes,
        n_layer=config.n_layer,
        n_head=config.n_head,
        n_embd=config.n_embd,
        mlp_ratio=config.mlp_ratio,
        dropout=config.dropout,
        bias=config.bias,
        gradient_checkpointing=config.gradient_checkpointing,
    )
    return GPT(cfg)
