"""Text classification: single-label, multi-label or regression, over texts or text pairs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ltx_core.errors import LtxError
from ltx_nlp_hf.config.predict import TextClassificationPredictOptions
from ltx_nlp_hf.config.tasks import TextClassificationConfig
from ltx_nlp_hf.handoff import TextClassificationData
from ltx_nlp_hf.metrics import classification_metrics, multilabel_metrics, regression_metrics
from ltx_nlp_hf.tasks.base import HFTask

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
        self._record_columns: tuple[str, str | None] | None = None

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

    # -- prediction ------------------------------------------------------------------
    predict_options = TextClassificationPredictOptions
    predict_input_doc = (
        "a text; for a text-pair model an object with the two columns (e.g. "
        '{"sentence1": ..., "sentence2": ...}, or {"text": ..., "text_pair": ...}), '
        "a [text, pair] list, or one string 'first ||| second'"
    )

    def _columns(self, record: Mapping[str, Any] | None = None) -> tuple[str, str | None]:
        """The text (and pair) columns: as trained, else inferred as training inferred them."""
        text = self.data_setting("text_column")
        pair = self.data_setting("text_pair_column")
        if text is None and record is not None:
            from ltx_nlp_hf.data.text_classification import infer_text_columns

            label = self.data_setting("label_column", "label")
            columns = [c for c in record if c != label]
            if text is None and "text" in columns:
                text = "text"
            else:
                found = infer_text_columns(columns, label)
                if found is None:
                    raise LtxError(
                        f"Which input columns hold the text is ambiguous ({', '.join(columns)}); "
                        "name them as in training: rename a column to 'text'."
                    )
                text, pair = found[0], pair or found[1]
        return text or "text", pair

    def predict_input_from_record(self, record: Mapping[str, Any]) -> Any:
        if self._record_columns is None:
            self._record_columns = self._columns(record)
        text, pair = self._record_columns
        if self.handoff.text_pair:
            if pair is None:
                raise LtxError(
                    "This model classifies text pairs but the input has one text column; "
                    "give the pair's column too."
                )
            return {"text": record[text], "text_pair": record[pair]}
        return record[text]

    def check_predict_inputs(self, raw: Sequence[Any]) -> list[Any]:
        text, pair = self._columns()
        out: list[Any] = []
        for i, item in enumerate(raw):
            if isinstance(item, str):
                out.append(item)
                continue
            if self.handoff.text_pair:
                if isinstance(item, Mapping):
                    keys = [k for k in (text, "text") if k in item]
                    pkeys = [k for k in (pair, "text_pair") if k and k in item]
                    if keys and pkeys:
                        first, second = item[keys[0]], item[pkeys[0]]
                        if isinstance(first, str) and isinstance(second, str):
                            out.append({"text": first, "text_pair": second})
                            continue
                elif (
                    isinstance(item, (list, tuple))
                    and len(item) == 2
                    and all(isinstance(x, str) for x in item)
                ):
                    out.append({"text": item[0], "text_pair": item[1]})
                    continue
                raise LtxError(
                    f"Input {i} is not a text pair: give an object with the strings "
                    f"'{text}' and '{pair or 'text_pair'}', a [text, pair] list or a string."
                )
            raise LtxError(
                f"Input {i} is not a string ({type(item).__name__}); this model classifies texts."
            )
        return out

    def predict_batch(
        self, inputs: list[Any], options: TextClassificationPredictOptions
    ) -> list[Any]:
        """Label each text (or pair); scores are probabilities, rounded to 4 digits."""
        if self.handoff.text_pair:
            pairs = []
            for item in inputs:
                if isinstance(item, str):
                    first, _, second = item.partition(options.sep)
                    pairs.append((first.strip(), second.strip()))
                else:
                    pairs.append((str(item["text"]), str(item["text_pair"])))
            enc = self._encode([p[0] for p in pairs], [p[1] for p in pairs])
        else:
            enc = self._encode([str(t) for t in inputs])
        logits = self.backbone(**self.model_inputs(enc)).logits.float()
        names = self.label_names
        results: list[Any] = []
        if self.problem_type == "regression":
            return [
                {"input": item, "score": float(row[0])}
                for item, row in zip(inputs, logits.cpu(), strict=True)
            ]
        if self.problem_type == "multi_label_classification":
            threshold = options.threshold or self.config.multi_label_threshold
            sigmoids = torch.sigmoid(logits).cpu().tolist()
            for item, ps in zip(inputs, sigmoids, strict=True):
                results.append(
                    {
                        "input": item,
                        "labels": [n for n, p in zip(names, ps, strict=True) if p > threshold],
                        "scores": {n: round(p, 4) for n, p in zip(names, ps, strict=True)},
                    }
                )
            return results
        probs = torch.softmax(logits, dim=-1).cpu()
        best_p, best = probs.max(dim=-1)
        all_rows = probs.tolist() if options.return_all_scores else None
        for i, item in enumerate(inputs):
            row: dict[str, Any] = {
                "input": item,
                "label": names[int(best[i])],
                "score": round(float(best_p[i]), 4),
            }
            if all_rows is not None:
                row["scores"] = {n: round(p, 4) for n, p in zip(names, all_rows[i], strict=True)}
            results.append(row)
        return results
