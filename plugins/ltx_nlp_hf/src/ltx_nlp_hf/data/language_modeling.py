"""Raw text for language modelling, shared by the causal and the masked task.

Texts are tokenised, concatenated and cut into blocks of ``max_length`` tokens
(``group_texts``), or kept one per example and truncated. The dataset is the same
for both objectives; the task decides the labels (next token, or masked tokens),
so one named dataset serves both tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

from ltx_core.errors import LtxError
from ltx_nlp_hf.config.data import LanguageModelingSourceConfig
from ltx_nlp_hf.data.base import SPLIT_NAMES, HFDataModule
from ltx_nlp_hf.handoff import LanguageModelingData

__all__ = ["LanguageModelingDataModule", "group_blocks"]


def group_blocks(columns: dict[str, list[list[int]]], size: int) -> dict[str, list[list[int]]]:
    """Concatenate every column's sequences and cut them into blocks of ``size``.

    The tail shorter than a block is dropped, unless it is all there is (a small
    file still gives one example).
    """
    joined = {k: list(chain.from_iterable(v)) for k, v in columns.items()}
    total = len(next(iter(joined.values()))) if joined else 0
    usable = (total // size) * size if total >= size else total
    return {k: [v[i : i + size] for i in range(0, usable, size)] for k, v in joined.items()}


class LanguageModelingDataModule(HFDataModule):
    """Text files (one example per non-empty line), or a text column of any other format.

    Records: ``text_column`` (a string). Batches hand the task ``input_ids`` and
    ``attention_mask`` blocks of ``max_length`` tokens; the task makes the labels.
    :meth:`handoff` returns :class:`~ltx_nlp_hf.handoff.LanguageModelingData`
    (``block_size``, ``special_token_ids``, and the tokenizer's ``mask_token_id``).
    """

    config: LanguageModelingSourceConfig
    files_dataset = "language-modeling-files"

    def required_columns(self) -> dict[str, str]:
        return {self.config.text_column: "text_column"}

    def reader_options(self) -> dict[str, Any]:
        return {"text_column": self.config.text_column}

    def check_split(self, split: str, ds: Any, meta: dict[str, Any]) -> None:
        texts = ds[self.config.text_column]
        if not any(isinstance(t, str) and t.strip() for t in texts):
            raise LtxError(
                f"The {SPLIT_NAMES[split]} data ({self.describe(split)}) holds no text in "
                f"'{self.config.text_column}'."
            )

    def build_meta(self, raw: dict[str, Any]) -> dict[str, Any]:
        tok = self.tokenizer
        return {
            "block_size": self.config.max_length,
            # The masked task must never mask these (they carry no text).
            "special_token_ids": sorted({int(i) for i in tok.all_special_ids}),
        }

    def handoff(self) -> LanguageModelingData:
        return LanguageModelingData(**self.tokenized_data(), **self.meta)

    def batch_tokeniser(self, split: str) -> Callable[[dict[str, list[Any]]], dict[str, Any]]:
        """Rows (column lists) in, examples out: what ``tokenise`` maps over a split, and
        what a streamed split applies on the fly."""
        cfg = self.config
        tok = self.tokenizer

        def fn(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
            texts = [t for t in batch[cfg.text_column] if isinstance(t, str) and t.strip()]
            if not cfg.group_texts:
                return dict(tok(texts, truncation=True, max_length=cfg.max_length))
            # No truncation: the whole text is wanted, cut into blocks below.
            enc = tok(texts, return_attention_mask=True, verbose=False)
            keep = {k: enc[k] for k in ("input_ids", "attention_mask") if k in enc}
            return group_blocks(keep, cfg.max_length)

        return fn

    def tokenise(self, split: str, ds: Any, meta: dict[str, Any]) -> Any:
        return self.map_batched(ds, self.batch_tokeniser(split), split)

    # -- streaming (dataset.streaming: see ltx_nlp_hf.data.streaming) ------------
    @property
    def streaming(self) -> bool:
        """Whether the splits are read as streams."""
        return bool(getattr(self.config, "streaming", False))

    def check_trainer(self, trainer_config: Any) -> None:
        """Called by the core before training: a stream needs a step count."""
        if self.streaming:
            from ltx_nlp_hf.data.streaming import check_steps

            check_steps(trainer_config)

    def load_splits(self) -> dict[str, Any]:
        if self.streaming:
            from ltx_nlp_hf.data.streaming import stream_splits

            self.meta = self.build_meta({})
            return stream_splits(self)
        return super().load_splits()

    def train_dataloader(self) -> Any:
        if self.streaming:
            from ltx_nlp_hf.data.streaming import stream_loader

            return stream_loader(self, "train")
        return super().train_dataloader()

    def val_dataloader(self) -> Any:
        if self.streaming:
            from ltx_nlp_hf.data.streaming import stream_loader

            return stream_loader(self, "validation")
        return super().val_dataloader()

    def test_dataloader(self) -> Any:
        if self.streaming:
            from ltx_nlp_hf.data.streaming import stream_loader

            return stream_loader(self, "test")
        return super().test_dataloader()
