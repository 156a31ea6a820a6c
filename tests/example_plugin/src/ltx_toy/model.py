"""The backbone: a factory (config, data, *, request, restore) -> nn.Module, sized from the
dataset's hand-off."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ltx_core.handoff import Restore
from ltx_toy.config import EncoderConfig, SumSequences


class Encoder(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        seq_len: int,
        num_classes: int,
        d_model: int,
        n_head: int,
        n_layer: int,
    ) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Parameter(torch.zeros(1, seq_len, d_model))
        layer = nn.TransformerEncoderLayer(
            d_model, n_head, 4 * d_model, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, n_layer, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tok(idx) + self.pos[:, : idx.shape[1]]  # (B, T, C)
        return self.head(self.encoder(x).mean(dim=1))  # (B, classes)


def build_encoder(
    config: EncoderConfig,
    data: SumSequences,
    *,
    request: Any = None,
    restore: Restore | None = None,
) -> nn.Module:
    # Sizes come from the dataset's hand-off (data), widths from the backbone's own config.
    # The annotation SumSequences is the declaration: the core checks the hand-off has it.
    return Encoder(
        vocab_size=data.vocab_size,
        seq_len=data.seq_len,
        num_classes=data.num_classes,
        d_model=config.d_model,
        n_head=config.n_head,
        n_layer=config.n_layer,
    )
