"""Sequence-to-sequence tasks: summarisation (ROUGE) and translation (sacreBLEU).

Training is teacher-forced cross-entropy. Evaluation logs the loss and, on the
test split always and on validation unless turned off, generates text and scores
it against the references.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import torch

from ltx_nlp_hf.config.predict import GenerationPredictOptions
from ltx_nlp_hf.config.tasks import Seq2SeqConfig, SummarizationConfig, TranslationConfig
from ltx_nlp_hf.handoff import Seq2SeqData
from ltx_nlp_hf.metrics import bleu, rouge
from ltx_nlp_hf.tasks.base import HFTask, generation_kwargs, generation_settings

__all__ = ["Seq2SeqTask", "SummarizationTask", "TranslationTask"]

IGNORE = -100


class Seq2SeqTask(HFTask):
    """Base of the generation tasks; subclasses name their metric.

    Batch: ``input_ids`` and ``attention_mask`` (batch, source tokens), the source with
    its prefix, and ``labels`` (batch, target tokens), -100 as padding. Hand-off:
    :class:`~ltx_nlp_hf.handoff.Seq2SeqData` (``source_prefix``, put before every
    ``ltx predict`` input too).
    """

    config: Seq2SeqConfig
    handoff: Seq2SeqData
    head = "seq2seq-lm"
    monitor = "val_loss"
    monitor_mode = "min"
    #: Metric that picks the best checkpoint when validation generates.
    generation_monitor = ""

    def __init__(self, config: Seq2SeqConfig, *, handoff: Seq2SeqData, **kwargs: Any) -> None:
        super().__init__(config, handoff=handoff, **kwargs)
        if config.generate_during_validation and self.generation_monitor:
            self.monitor, self.monitor_mode = self.generation_monitor, "max"

    def batch_stats(self, batch: Any) -> tuple[int, int | None]:
        samples, tokens = super().batch_stats(batch)
        return samples, (tokens or 0) + int((batch["labels"] != IGNORE).sum())

    def score(self, predictions: list[str], references: list[str]) -> dict[str, float]:
        raise NotImplementedError

    def _decode(self, ids: torch.Tensor) -> list[str]:
        tok = self._require_tokenizer()
        ids = ids.masked_fill(ids == IGNORE, tok.pad_token_id)
        return [t.strip() for t in tok.batch_decode(ids, skip_special_tokens=True)]

    def eval_step(self, stage: str, batch: dict[str, Any], batch_idx: int) -> Any:
        out = self.backbone(**self.model_inputs(batch))
        self.log_loss(stage, out.loss, batch)
        cfg = self.config
        wanted = stage == "test" or cfg.generate_during_validation
        if not wanted or (
            cfg.max_generate_batches is not None and batch_idx >= cfg.max_generate_batches
        ):
            return None
        generated = self._generate_ids(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            **generation_kwargs(cfg.generation),
        )
        return (self._decode(generated), self._decode(batch["labels"]))

    def eval_metrics(self, stage: str, records: list[Any]) -> dict[str, float]:
        preds = [p for record in records for p in record[0]]
        refs = [r for record in records for r in record[1]]
        out = self.score(preds, refs)
        lengths = [len(p.split()) for p in preds]
        if lengths:
            out["gen_len"] = float(sum(lengths) / len(lengths))
        return out

    # -- prediction ------------------------------------------------------------------
    predict_options = GenerationPredictOptions
    predict_input_doc = "a source text (the run's source_prefix is put before it)"

    def predict_input_from_record(self, record: Mapping[str, Any]) -> Any:
        source = self.data_setting("source_column")
        if source is not None:
            return record[source]
        translation = self.data_setting("translation_column")
        if translation is not None and translation in record:
            pair = record[translation]
            if isinstance(pair, str):
                pair = json.loads(pair)  # a CSV cell holds the object as JSON
            return pair[self.data_setting("source_lang", "en")]
        return record[self.data_setting("text_column", "text")]

    def predict_batch(self, inputs: list[Any], options: GenerationPredictOptions) -> list[Any]:
        """Generate for each input (``--set num_beams=4 max_new_tokens=60``)."""
        prefix = self.handoff.source_prefix
        enc = self._encode([prefix + t for t in inputs])
        enc.pop("token_type_ids", None)
        if options.seed is not None:
            torch.manual_seed(options.seed)
        generated = self._generate_ids(
            **enc, **generation_settings(self.config.generation, options)
        )
        return [
            {"input": t, "output": o} for t, o in zip(inputs, self._decode(generated), strict=True)
        ]


class SummarizationTask(Seq2SeqTask):
    """Summarise documents; logs ROUGE-1/2/L. Batch and hand-off as :class:`Seq2SeqTask`."""

    config: SummarizationConfig
    generation_monitor = "val_rougeL"

    def score(self, predictions: list[str], references: list[str]) -> dict[str, float]:
        return rouge(predictions, references)


class TranslationTask(Seq2SeqTask):
    """Translate sentences; logs sacreBLEU and chrF. Batch and hand-off as
    :class:`Seq2SeqTask`."""

    config: TranslationConfig
    generation_monitor = "val_bleu"

    def score(self, predictions: list[str], references: list[str]) -> dict[str, float]:
        return bleu(predictions, references)
