"""Multiple choice (SWAG, RACE): score every (context, ending) pair, pick the best."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ltx_core.errors import LtxError
from ltx_nlp_hf.config.tasks import MultipleChoiceConfig
from ltx_nlp_hf.handoff import MultipleChoiceData
from ltx_nlp_hf.tasks.base import HFTask, option

__all__ = ["MultipleChoiceTask"]


class MultipleChoiceTask(HFTask):
    """Fine-tunes a multiple-choice head; logs accuracy.

    Batch: ``input_ids`` and ``attention_mask`` (and ``token_type_ids``) of shape
    (batch, choices, tokens), each choice the pair (context, question + ending), and
    ``labels`` (batch,): the right choice's index. Hand-off:
    :class:`~ltx_nlp_hf.handoff.MultipleChoiceData` (``num_choices``; ``ltx predict``
    takes any number of endings).
    """

    config: MultipleChoiceConfig
    handoff: MultipleChoiceData
    head = "multiple-choice"
    monitor = "val_acc"
    monitor_mode = "max"

    def batch_stats(self, batch: Any) -> tuple[int, int | None]:
        ids = batch["input_ids"]  # (batch, choices, length)
        return int(ids.shape[0]), int(batch["attention_mask"].sum())

    def eval_step(self, stage: str, batch: dict[str, Any], batch_idx: int) -> Any:
        out = self.backbone(**self.model_inputs(batch))
        self.log_loss(stage, out.loss, batch)
        return (out.logits.argmax(-1).cpu().numpy(), batch["labels"].cpu().numpy())

    def eval_metrics(self, stage: str, records: list[Any]) -> dict[str, float]:
        preds = np.concatenate([r[0] for r in records])
        labels = np.concatenate([r[1] for r in records])
        return {"acc": float(np.mean(preds == labels))} if len(labels) else {}

    def predict_inputs(
        self, inputs: list[str], out_dir: Path, datamodule: Any = None, **options: Any
    ) -> list[Any]:
        """Each input is JSON {"context", "question" (optional), "endings": [...]}, or a context
        with ``--set endings='a|b|c'``."""
        self._require_inputs(inputs, 'JSON {"context": ..., "endings": [...]}')
        shared = option(options, "endings", None)
        results = []
        for text in inputs:
            if shared is not None:
                context, question, endings = text, "", [e.strip() for e in shared.split("|")]
            else:
                try:
                    record = json.loads(text)
                    context = str(record["context"])
                    question = str(record.get("question") or "")
                    endings = [str(e) for e in record["endings"]]
                except (json.JSONDecodeError, KeyError, TypeError):
                    raise LtxError(
                        'Each input must be JSON like {"context": "...", "endings": ["...", '
                        '"..."]}, or a context with --set endings="a|b|c".'
                    ) from None
            if len(endings) < 2:
                raise LtxError("Give at least two endings to choose between.")
            enc = self._encode(
                [context] * len(endings), [f"{question} {e}".strip() for e in endings]
            )
            logits = self.backbone(**{k: v.unsqueeze(0) for k, v in enc.items()}).logits[0]
            probs = torch.softmax(logits.float(), dim=-1)
            best = int(probs.argmax())
            results.append(
                {
                    "context": context,
                    "choice": best,
                    "ending": endings[best],
                    "scores": [round(float(p), 4) for p in probs],
                }
            )
        return results
