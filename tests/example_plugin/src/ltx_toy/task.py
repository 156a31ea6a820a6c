"""The task: train / validation / test logic, agnostic to which backbone it gets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.nn import functional as F

from ltx_core.errors import LtxError
from ltx_core.task import LtxTask
from ltx_toy.config import SumPredictOptions, SumSequences, SumTaskConfig


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

    # -- prediction: ltx predict (arguments or every row of a file) and ltx serve --------
    predict_options = SumPredictOptions  # what --set / "options" are validated against
    predict_input_doc = "a sequence of integers separated by spaces, e.g. '1 2 3 4 5 6 7 8'"

    def check_predict_inputs(self, raw: Sequence[Any]) -> list[Any]:
        # Runs before any batch is formed: one bad input is one sentence, for its request.
        seq_len = self.handoff.seq_len
        rows = []
        for i, text in enumerate(raw):
            try:
                row = [int(t) for t in str(text).split()]
            except ValueError:
                raise LtxError(f"Input {i} is not integers separated by spaces.") from None
            if len(row) != seq_len:
                raise LtxError(f"Input {i} has {len(row)} integers; the model takes {seq_len}.")
            rows.append((str(text), row))
        return rows

    def predict_batch(self, inputs: list[Any], options: SumPredictOptions) -> list[Any]:
        # One batch of checked inputs, already on the model's device and precision.
        x = torch.tensor([row for _, row in inputs], device=self.device)
        probs = self.backbone(x).softmax(-1)
        results = []
        for (text, _), p in zip(inputs, probs, strict=True):
            result: dict[str, Any] = {"input": text, "class": int(p.argmax())}
            if options.scores:
                result["scores"] = [round(float(v), 4) for v in p]
            results.append(result)
        return results
