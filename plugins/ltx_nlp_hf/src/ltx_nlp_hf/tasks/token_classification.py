"""Token classification (NER, POS): one tag per word, scored per entity with seqeval."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ltx_core.errors import LtxError
from ltx_nlp_hf.config.predict import TokenClassificationPredictOptions
from ltx_nlp_hf.config.tasks import TokenClassificationConfig
from ltx_nlp_hf.handoff import TokenClassificationData
from ltx_nlp_hf.metrics import seqeval_metrics
from ltx_nlp_hf.tasks.base import HFTask

__all__ = ["TokenClassificationTask"]

IGNORE = -100


class TokenClassificationTask(HFTask):
    """Fine-tunes a token-classification head; logs entity precision, recall and F1.

    Batch: ``input_ids``, ``attention_mask`` (and ``token_type_ids``), (batch, tokens),
    and ``labels`` (batch, tokens): the word's tag id on its first sub-token, -100 on
    the others, on special tokens and on padding. Hand-off:
    :class:`~ltx_nlp_hf.handoff.TokenClassificationData` (``num_labels``, ``id2label``:
    the tag set).
    """

    config: TokenClassificationConfig
    handoff: TokenClassificationData
    head = "token-classification"
    pipeline_task = "token-classification"
    monitor = "val_f1"
    monitor_mode = "max"

    def __init__(
        self, config: TokenClassificationConfig, *, handoff: TokenClassificationData, **kwargs: Any
    ) -> None:
        super().__init__(config, handoff=handoff, **kwargs)
        id2label = self.handoff.id2label
        self.label_names = [id2label.get(i, str(i)) for i in range(self.handoff.num_labels)]

    def eval_step(self, stage: str, batch: dict[str, Any], batch_idx: int) -> Any:
        out = self.backbone(**self.model_inputs(batch))
        self.log_loss(stage, out.loss, batch)
        preds = out.logits.argmax(-1).cpu().tolist()
        labels = batch["labels"].cpu().tolist()
        names = self.label_names
        # Only the positions that carry a word's tag (first sub-tokens) are scored.
        return [
            (
                [names[p] for p, y in zip(ps, ys, strict=True) if y != IGNORE],
                [names[y] for y in ys if y != IGNORE],
            )
            for ps, ys in zip(preds, labels, strict=True)
        ]

    def eval_metrics(self, stage: str, records: list[Any]) -> dict[str, float]:
        pairs = [pair for record in records for pair in record]
        return seqeval_metrics(
            [p for p, _ in pairs],
            [g for _, g in pairs],
            per_type=self.config.entity_metrics_per_type,
        )

    # -- prediction ------------------------------------------------------------------
    predict_options = TokenClassificationPredictOptions
    predict_input_doc = "a text (tagged word by word, split on whitespace) or a list of words"

    def predict_input_from_record(self, record: Mapping[str, Any]) -> Any:
        tokens = self.data_setting("tokens_column", "tokens")
        if tokens in record:
            return record[tokens]
        return record[self.data_setting("text_column", "text")]

    def check_predict_inputs(self, raw: Sequence[Any]) -> list[Any]:
        for i, item in enumerate(raw):
            ok = isinstance(item, str) or (
                isinstance(item, list) and all(isinstance(w, str) for w in item)
            )
            if not ok:
                raise LtxError(f"Input {i} must be a text or a list of words (strings).")
        return list(raw)

    def predict_batch(
        self, inputs: list[Any], options: TokenClassificationPredictOptions
    ) -> list[Any]:
        """Tag each word; a word's tag is its first sub-token's."""
        words = [item.split() if isinstance(item, str) else list(item) for item in inputs]
        results: list[Any] = [{"input": item, "tags": []} for item in inputs]
        todo = [i for i, ws in enumerate(words) if ws]
        if not todo:
            return results
        tok = self._require_tokenizer()
        enc = tok(
            [words[i] for i in todo],
            is_split_into_words=True,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=self.handoff.max_length,
        )
        batch = {k: v.to(self.device) for k, v in enc.items()}
        probs = self.backbone(**self.model_inputs(batch)).logits.float().softmax(-1)
        best_p, best = (t.cpu().tolist() for t in probs.max(-1))
        for row, i in enumerate(todo):
            tags: dict[int, tuple[str, float]] = {}
            for pos, wid in enumerate(enc.word_ids(row)):
                if wid is not None and wid not in tags:
                    tags[wid] = (self.label_names[best[row][pos]], best_p[row][pos])
            out = []
            for j, w in enumerate(words[i]):
                # Words cut off by max_length get no tag of their own.
                tag, p = tags.get(j, ("O", 0.0))
                out.append([w, tag, round(p, 4)] if options.return_scores else [w, tag])
            results[i]["tags"] = out
        return results
