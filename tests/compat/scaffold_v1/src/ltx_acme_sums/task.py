"""The task: train / validation / test logic, agnostic to which backbone it gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from ltx_core.errors import LtxError
from ltx_core.task import LtxTask


class SumTask(LtxTask):
    monitor = "val_acc"
    monitor_mode = "max"

    def _step(self, batch: Any, stage: str) -> torch.Tensor:
        x, y = batch
        logits = self.backbone(x)
        loss = F.cross_entropy(logits, y, label_smoothing=self.config.label_smoothing)
        self.log(f"{stage}_loss", loss, prog_bar=True, sync_dist=stage != "train")
        if stage != "train":
            self.log(f"{stage}_acc", (logits.argmax(-1) == y).float().mean(), sync_dist=True)
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "test")

    def batch_stats(self, batch: Any) -> tuple[int, int | None]:
        x, _ = batch
        return x.shape[0], x.numel()

    def predict_inputs(self, inputs: list[str], out_dir: Path, datamodule: Any = None,
                       **options: Any) -> list[Any]:
        try:
            rows = [[int(t) for t in text.split()] for text in inputs]
        except ValueError:
            raise LtxError("Each input is a sequence of integers separated by spaces.") from None
        if any(len(r) != self.info["seq_len"] for r in rows):
            raise LtxError(f"Each input needs exactly {self.info['seq_len']} integers.")
        logits = self.backbone(torch.tensor(rows, device=self.device))
        return [{"input": t, "class": int(c)} for t, c in zip(inputs, logits.argmax(-1), strict=True)]
