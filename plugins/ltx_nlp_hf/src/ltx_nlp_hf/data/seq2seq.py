"""Sequence-to-sequence data: summarisation (document -> summary) and translation.

Sources and targets are tokenised separately (targets with ``text_target``, so
tokenizers with language-specific targets get it right); target padding is -100,
ignored by the loss.
"""

from __future__ import annotations

from typing import Any

from ltx_core.errors import LtxError
from ltx_nlp_hf.config.data import (
    SummarizationSourceConfig,
    TranslationSourceConfig,
)
from ltx_nlp_hf.data.base import SPLIT_NAMES, HFDataModule
from ltx_nlp_hf.data.collate import PadCollator
from ltx_nlp_hf.handoff import Seq2SeqData

__all__ = ["Seq2SeqDataModule", "SummarizationDataModule", "TranslationDataModule"]

IGNORE = -100


class Seq2SeqDataModule(HFDataModule):
    """Base: subclasses say where sources and targets are (:meth:`pairs`).

    :meth:`handoff` returns :class:`~ltx_nlp_hf.handoff.Seq2SeqData` (``source_prefix``,
    ``max_target_length``).
    """

    config: SummarizationSourceConfig | TranslationSourceConfig

    def pairs(self, batch: dict[str, list[Any]]) -> tuple[list[Any], list[Any]]:
        raise NotImplementedError

    def check_split(self, split: str, ds: Any, meta: dict[str, Any]) -> None:
        sources, targets = self.pairs(ds[:])
        for n, (s, t) in enumerate(zip(sources, targets, strict=True), start=1):
            if not isinstance(s, str) or not isinstance(t, str) or not s.strip() or not t.strip():
                raise LtxError(
                    f"Example {n} of the {SPLIT_NAMES[split]} data ({self.describe(split)}) has an "
                    f"empty source or target text."
                )

    def build_meta(self, raw: dict[str, Any]) -> dict[str, Any]:
        return {
            "source_prefix": self.config.source_prefix,
            "max_target_length": self.config.max_target_length,
        }

    def handoff(self) -> Seq2SeqData:
        return Seq2SeqData(**self.tokenized_data(), **self.meta)

    def tokenise(self, split: str, ds: Any, meta: dict[str, Any]) -> Any:
        cfg = self.config
        tok = self.tokenizer

        def fn(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
            sources, targets = self.pairs(batch)
            enc = dict(
                tok(
                    [cfg.source_prefix + s for s in sources],
                    truncation=True,
                    max_length=cfg.max_length,
                )
            )
            enc["labels"] = tok(
                text_target=targets, truncation=True, max_length=cfg.max_target_length
            )["input_ids"]
            return enc

        return self.map_batched(ds, fn, split)

    def collate_fn(self, split: str) -> Any:
        cfg = self.config
        return PadCollator(
            self.tokenizer, cfg.padding, cfg.max_length, cfg.pad_to_multiple_of, label_pad=IGNORE
        )


class SummarizationDataModule(Seq2SeqDataModule):
    """Documents and summaries (XSum, CNN/DailyMail).

    Records: ``text_column`` (the document) and ``summary_column`` (strings). Batches hand
    the task ``input_ids``, ``attention_mask`` and ``labels`` (the summary's tokens, -100
    as padding). :meth:`handoff` returns :class:`~ltx_nlp_hf.handoff.Seq2SeqData`.
    """

    config: SummarizationSourceConfig
    files_dataset = "summarization-files"

    def required_columns(self) -> dict[str, str]:
        return {
            self.config.text_column: "text_column",
            self.config.summary_column: "summary_column",
        }

    def pairs(self, batch: dict[str, list[Any]]) -> tuple[list[Any], list[Any]]:
        return list(batch[self.config.text_column]), list(batch[self.config.summary_column])


class TranslationDataModule(Seq2SeqDataModule):
    """Sentence pairs: a ``{lang: text}`` column (WMT) or a source and a target column.

    Records: ``translation_column`` (``{source_lang: text, target_lang: text}``), or
    ``source_column`` and ``target_column`` (strings). Batches as for summarisation;
    :meth:`handoff` returns :class:`~ltx_nlp_hf.handoff.Seq2SeqData`.
    """

    config: TranslationSourceConfig
    files_dataset = "translation-files"

    def required_columns(self) -> dict[str, str]:
        cfg = self.config
        if cfg.source_column and cfg.target_column:
            return {cfg.source_column: "source_column", cfg.target_column: "target_column"}
        return {cfg.translation_column: "translation_column"}  # type: ignore[dict-item]

    def pairs(self, batch: dict[str, list[Any]]) -> tuple[list[Any], list[Any]]:
        cfg = self.config
        if cfg.source_column and cfg.target_column:
            return list(batch[cfg.source_column]), list(batch[cfg.target_column])
        sources, targets = [], []
        for n, row in enumerate(batch[cfg.translation_column], start=1):  # type: ignore[index]
            if (
                not isinstance(row, dict)
                or cfg.source_lang not in row
                or cfg.target_lang not in row
            ):
                keys = ", ".join(row) if isinstance(row, dict) else type(row).__name__
                raise LtxError(
                    f"Example {n} has no '{cfg.source_lang}' and '{cfg.target_lang}' texts in "
                    f"'{cfg.translation_column}' (it has: {keys}); set dataset.source_lang and "
                    f"dataset.target_lang."
                )
            sources.append(row[cfg.source_lang])
            targets.append(row[cfg.target_lang])
        return sources, targets
