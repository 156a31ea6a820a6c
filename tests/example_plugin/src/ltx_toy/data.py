"""The dataset: a LightningDataModule that also hands the model what it needs."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import TensorDataset

from ltx_core.data import LtxDataModule
from ltx_toy.config import SumDataConfig, SumSequences


class SumData(LtxDataModule):
    config: SumDataConfig

    def load_splits(self) -> dict[str, Any]:
        cfg = self.config
        gen = torch.Generator().manual_seed(self.seed)
        x = torch.randint(0, cfg.vocab_size, (cfg.samples, cfg.seq_len), generator=gen)
        # Equal-width bins of the sum: learnable by a mean-pooling encoder.
        y = x.sum(dim=1) * cfg.num_classes // ((cfg.vocab_size - 1) * cfg.seq_len + 1)
        n = cfg.samples // 10  # validation and test each; the rest trains
        return {
            "train": TensorDataset(x[: -2 * n], y[: -2 * n]),
            "validation": TensorDataset(x[-2 * n : -n], y[-2 * n : -n]),
            "test": TensorDataset(x[-n:], y[-n:]),
        }

    def handoff(self) -> SumSequences:
        # The backbone sizes itself from these, never from its own config.
        cfg = self.config
        return SumSequences(
            vocab_size=cfg.vocab_size, seq_len=cfg.seq_len, num_classes=cfg.num_classes
        )
