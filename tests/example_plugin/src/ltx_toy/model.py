"""The backbone: a factory (config, info) -> nn.Module, sized from the dataset's hand-off."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn


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


def build_encoder(config: Any, info: Mapping[str, Any]) -> nn.Module:
    # Sizes come from the dataset's hand-off (info), widths from the backbone's own config.
    return Encoder(
        vocab_size=info["vocab_size"],
        seq_len=info["seq_len"],
        num_classes=info["num_classes"],
        d_model=config.d_model,
        n_head=config.n_head,
        n_layer=config.n_layer,
    )
