"""The task: train / validation / test logic, agnostic to which backbone it gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from ltx_core.errors import LtxError
from ltx_core.task import LtxTask
from ltx_toy.config import SumSequences, SumTaskConfig


class SumTask(LtxTask):
    config: SumTaskConfig
    handoff: SumSequences  # what the task reads from the dataset, checked by the core
    monitor = "val_acc"  # the best checkpoint is the one with the highest val_acc
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
        # (samples, tokens) in a batch: the run's summary reports both per second.
        x, _ = batch
        return x.shape[0], x.numel()

    def predict_inputs(
        self, inputs: list[str], out_dir: Path, datamodule: Any = None, **options: Any
    ) -> list[Any]:
        try:
            rows = [[int(t) for t in text.split()] for text in inputs]
        except ValueError:
            raise LtxError("Each input is a sequence of integers separated by spaces.") from None
        seq_len = self.handoff.seq_len
        if any(len(row) != seq_len for row in rows):
            raise LtxError(f"Each input needs exactly {seq_len} integers.")
        classes = self.backbone(torch.tensor(rows, device=self.device)).argmax(-1).tolist()
        return [{"input": t, "class": c} for t, c in zip(inputs, classes, strict=True)]
