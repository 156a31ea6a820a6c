"""Token classification (NER, POS): one tag per word, scored per entity with seqeval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

    def predict_inputs(
        self, inputs: list[str], out_dir: Path, datamodule: Any = None, **options: Any
    ) -> list[Any]:
        """Tag each whitespace-separated word of each input text."""
        self._require_inputs(inputs, "texts to tag")
        words = [text.split() for text in inputs]
        tok = self._require_tokenizer()
        enc = tok(
            words,
            is_split_into_words=True,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=self.handoff.max_length,
        )
        logits = self.backbone(**{k: v.to(self.device) for k, v in enc.items()}).logits
        preds = logits.argmax(-1).cpu().tolist()
        results = []
        for i, (text, ws) in enumerate(zip(inputs, words, strict=True)):
            tags: dict[int, str] = {}
            for pos, wid in enumerate(enc.word_ids(i)):
                if wid is not None and wid not in tags:
                    tags[wid] = self.label_names[preds[i][pos]]
            results.append(
                {"input": text, "tags": [[w, tags.get(j, "O")] for j, w in enumerate(ws)]}
            )
        return results
