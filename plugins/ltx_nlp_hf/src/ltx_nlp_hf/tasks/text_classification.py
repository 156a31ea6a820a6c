"""Text classification: single-label, multi-label or regression, over texts or text pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ltx_nlp_hf.config.tasks import TextClassificationConfig
from ltx_nlp_hf.handoff import TextClassificationData
from ltx_nlp_hf.metrics import classification_metrics, multilabel_metrics, regression_metrics
from ltx_nlp_hf.tasks.base import HFTask, option

__all__ = ["TextClassificationTask"]


class TextClassificationTask(HFTask):
    """Fine-tunes a sequence-classification head; logs accuracy and F1, or correlations.

    Batch: ``input_ids``, ``attention_mask`` (and ``token_type_ids``), (batch, tokens),
    and ``labels``: class ids (batch,), multi-hot floats (batch, classes) for
    multi-label, or float scores (batch,) for regression. Hand-off:
    :class:`~ltx_nlp_hf.handoff.TextClassificationData` (``num_labels``, ``id2label``,
    ``problem_type``, ``text_pair``).
    """

    config: TextClassificationConfig
    handoff: TextClassificationData
    head = "sequence-classification"
    pipeline_task = "text-classification"
    monitor = "val_acc"
    monitor_mode = "max"

    def __init__(
        self, config: TextClassificationConfig, *, handoff: TextClassificationData, **kwargs: Any
    ) -> None:
        super().__init__(config, handoff=handoff, **kwargs)
        self.problem_type = self.handoff.problem_type
        self.num_labels = self.handoff.num_labels
        id2label = self.handoff.id2label
        self.label_names = [id2label.get(i, str(i)) for i in range(self.num_labels)]
        # The best checkpoint is picked by what this kind of problem is scored on.
        if self.problem_type == "regression":
            self.monitor = "val_pearson"
        elif self.problem_type == "multi_label_classification":
            self.monitor = "val_f1"

    def eval_step(self, stage: str, batch: dict[str, Any], batch_idx: int) -> Any:
        out = self.backbone(**self.model_inputs(batch))
        self.log_loss(stage, out.loss, batch)
        return (out.logits.float().cpu().numpy(), batch["labels"].cpu().numpy())

    def eval_metrics(self, stage: str, records: list[Any]) -> dict[str, float]:
        logits = np.concatenate([r[0] for r in records])
        labels = np.concatenate([r[1] for r in records])
        if self.problem_type == "regression":
            return regression_metrics(logits.reshape(-1), labels.reshape(-1))
        if self.problem_type == "multi_label_classification":
            probs = 1 / (1 + np.exp(-logits))
            return multilabel_metrics(probs, labels, self.config.multi_label_threshold)
        return classification_metrics(
            logits.argmax(-1), labels, self.num_labels, self.config.f1_average
        )

    def predict_inputs(
        self, inputs: list[str], out_dir: Path, datamodule: Any = None, **options: Any
    ) -> list[Any]:
        """Label each text; for pairs write 'first ||| second' (``--set sep=...`` to change)."""
        self._require_inputs(inputs, "texts to classify")
        sep = option(options, "sep", "|||")
        if self.handoff.text_pair:
            parts = [[*t.split(sep, 1), ""][:2] for t in inputs]
            enc = self._encode([p[0].strip() for p in parts], [p[1].strip() for p in parts])
        else:
            enc = self._encode(list(inputs))
        logits = self.backbone(**enc).logits.float()
        results = []
        for text, row in zip(inputs, logits, strict=True):
            if self.problem_type == "regression":
                results.append({"input": text, "score": float(row[0])})
                continue
            if self.problem_type == "multi_label_classification":
                probs = torch.sigmoid(row)
                chosen = [
                    self.label_names[i]
                    for i, p in enumerate(probs)
                    if p > self.config.multi_label_threshold
                ]
                results.append(
                    {
                        "input": text,
                        "labels": chosen,
                        "scores": {
                            n: round(float(p), 4)
                            for n, p in zip(self.label_names, probs, strict=True)
                        },
                    }
                )
                continue
            probs = torch.softmax(row, dim=-1)
            best = int(probs.argmax())
            results.append(
                {
                    "input": text,
                    "label": self.label_names[best],
                    "score": round(float(probs[best]), 4),
                }
            )
        return results
