"""Dataset, backbone and task (the torch side, imported only when training)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import TensorDataset

from ltx_core.data import LtxDataModule
from ltx_core.task import LtxTask


class BlobData(LtxDataModule):
    def load_splits(self) -> dict[str, Any]:
        cfg = self.config
        gen = torch.Generator().manual_seed(self.seed)
        centres = torch.randn(cfg.num_classes, cfg.num_features, generator=gen) * 3
        y = torch.randint(0, cfg.num_classes, (cfg.samples,), generator=gen)
        x = centres[y] + torch.randn(cfg.samples, cfg.num_features, generator=gen)
        n_val = n_test = cfg.samples // 5
        n_train = cfg.samples - n_val - n_test
        return {
            "train": TensorDataset(x[:n_train], y[:n_train]),
            "validation": TensorDataset(x[n_train : n_train + n_val], y[n_train : n_train + n_val]),
            "test": TensorDataset(x[-n_test:], y[-n_test:]),
        }

    def model_data_kwargs(self) -> dict[str, Any]:
        return {"num_features": self.config.num_features, "num_classes": self.config.num_classes}


def build_mlp(config: Any, info: Any) -> nn.Module:
    layers: list[nn.Module] = []
    width = info["num_features"]
    for _ in range(config.num_layers):
        layers += [nn.Linear(width, config.hidden), nn.ReLU()]
        width = config.hidden
    layers.append(nn.Linear(width, info["num_classes"]))
    return nn.Sequential(*layers)


class ToyTask(LtxTask):
    monitor = "val_acc"
    monitor_mode = "max"

    def _step(self, batch: Any, stage: str) -> torch.Tensor:
        x, y = batch
        logits = self.backbone(x)
        loss = F.cross_entropy(logits, y, label_smoothing=self.config.label_smoothing)
        self.log(f"{stage}_loss", loss, prog_bar=True, sync_dist=stage != "train")
        if stage != "train":
            acc = (logits.argmax(-1) == y).float().mean()
            self.log(f"{stage}_acc", acc, prog_bar=True, sync_dist=True)
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "test")

    def predict_inputs(
        self, inputs: list[str], out_dir: Any, datamodule: Any = None, **options: Any
    ) -> list[Any]:
        rows = [[float(v) for v in text.split(",")] for text in inputs]
        x = torch.tensor(rows, dtype=torch.float32)
        return [
            {"input": t, "class": int(c)}
            for t, c in zip(inputs, self.backbone(x).argmax(-1), strict=True)
        ]
