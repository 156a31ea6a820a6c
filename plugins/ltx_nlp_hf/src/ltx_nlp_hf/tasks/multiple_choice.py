"""Multiple choice (SWAG, RACE): score every (context, ending) pair, pick the best."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ltx_core.errors import LtxError
from ltx_nlp_hf.config.predict import MultipleChoicePredictOptions
from ltx_nlp_hf.config.tasks import MultipleChoiceConfig
from ltx_nlp_hf.handoff import MultipleChoiceData
from ltx_nlp_hf.tasks.base import HFTask, json_object_or_text

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

    # -- prediction ------------------------------------------------------------------
    predict_options = MultipleChoicePredictOptions
    predict_input_doc = (
        'an object {"context": ..., "question": ... (optional), "endings": [...]} (or that '
        "object as a JSON string); a bare context with the option endings"
    )

    def predict_input_from_record(self, record: Mapping[str, Any]) -> Any:
        context = record[self.data_setting("context_column", "sent1")]
        question_column = self.data_setting("question_column")
        question = record.get(question_column) if question_column else None
        options_column = self.data_setting("options_column")
        if options_column:
            endings = record[options_column]
            if isinstance(endings, str):
                endings = json.loads(endings)  # a CSV cell holds the list as JSON
        else:
            endings = [record[c] for c in self.data_setting("ending_columns", [])]
        return {"context": context, "question": question or "", "endings": endings}

    def check_predict_inputs(self, raw: Sequence[Any]) -> list[Any]:
        out: list[Any] = []
        for i, given in enumerate(raw):
            item = json_object_or_text(given)
            if isinstance(item, str):
                out.append(item)
                continue
            if isinstance(item, Mapping) and isinstance(item.get("context"), str):
                endings = item.get("endings")
                question = item.get("question") or ""
                if (
                    isinstance(endings, list)
                    and len(endings) >= 2
                    and all(isinstance(e, str) for e in endings)
                    and isinstance(question, str)
                ):
                    out.append(
                        {"context": item["context"], "question": question, "endings": endings}
                    )
                    continue
            raise LtxError(
                f'Input {i} must be an object {{"context": "...", "endings": ["...", "..."]}} '
                "with two or more endings (strings), or a context with the option endings."
            )
        return out

    def predict_batch(self, inputs: list[Any], options: MultipleChoicePredictOptions) -> list[Any]:
        """Score every (context, question + ending) pair of each input; pick the best."""
        shared = (
            [e.strip() for e in options.endings.split("|")] if options.endings is not None else None
        )
        results = []
        for item in inputs:
            if isinstance(item, str):
                if shared is None:
                    raise LtxError(
                        'Each input must be JSON like {"context": "...", "endings": ["...", '
                        '"..."]}, or a context with --set endings="a|b|c".'
                    )
                context, question, endings = item, "", shared
            else:
                context, question = item["context"], item["question"]
                endings = shared or list(item["endings"])
            if len(endings) < 2:
                raise LtxError("Give at least two endings to choose between.")
            enc = self._encode(
                [context] * len(endings), [f"{question} {e}".strip() for e in endings]
            )
            batch = {k: v.unsqueeze(0) for k, v in enc.items()}
            logits = self.backbone(**self.model_inputs(batch)).logits[0]
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
