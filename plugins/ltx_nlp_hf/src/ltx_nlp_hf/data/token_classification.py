"""Token classification data (NER, POS): words with one tag each.

Words are tokenised as pre-split input; each word's tag goes on its first
sub-token and the other sub-tokens get -100 (ignored by the loss and the
metrics), unless ``label_all_tokens`` is set.
"""

from __future__ import annotations

from typing import Any

from ltx_core.errors import LtxError
from ltx_nlp_hf.config.data import TokenClassificationSourceConfig
from ltx_nlp_hf.data.base import SPLIT_NAMES, HFDataModule
from ltx_nlp_hf.data.collate import PadCollator
from ltx_nlp_hf.data.labels import LabelSet, feature_names
from ltx_nlp_hf.handoff import TokenClassificationData

__all__ = ["TokenClassificationDataModule", "align_labels"]

IGNORE = -100


def align_labels(word_ids: list[int | None], tags: list[int], label_all: bool) -> list[int]:
    """Per-token labels from per-word tags (special tokens and continuation pieces: -100)."""
    out = []
    previous = None
    for wid in word_ids:
        if wid is None:
            out.append(IGNORE)
        elif wid != previous or label_all:
            out.append(tags[wid])
        else:
            out.append(IGNORE)
        previous = wid
    return out


class TokenClassificationDataModule(HFDataModule):
    """Rows with a list of words and a list of tags, from JSON, Parquet, CSV or CoNLL text.

    Records: ``tokens_column`` (a list of words) and ``tags_column`` (a list of as many
    tags: names, or integer ids named by ``label_names`` or the hub's ``ClassLabel``).
    Batches hand the task ``input_ids``, ``attention_mask`` and per-token ``labels``
    (-100 off first sub-tokens and on padding). :meth:`handoff` returns
    :class:`~ltx_nlp_hf.handoff.TokenClassificationData` (``num_labels``, ``id2label``,
    ``label_names``: the tag set). Given ``label_names`` are the tag set.
    """

    config: TokenClassificationSourceConfig
    files_dataset = "token-classification-files"

    def required_columns(self) -> dict[str, str]:
        return {self.config.tokens_column: "tokens_column", self.config.tags_column: "tags_column"}

    def reader_options(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "tokens_column": cfg.tokens_column,
            "tags_column": cfg.tags_column,
            "conll_tag_index": cfg.conll_tag_index,
            "sniff_conll": True,
        }

    def _rows(self, split: str, ds: Any) -> list[tuple[list[Any], list[Any]]]:
        cfg = self.config
        what = f"{SPLIT_NAMES[split]} data ({self.describe(split)})"
        rows = []
        for n, (words, tags) in enumerate(
            zip(ds[cfg.tokens_column], ds[cfg.tags_column], strict=True), start=1
        ):
            if not isinstance(words, list) or not isinstance(tags, list):
                raise LtxError(
                    f"Example {n} of the {what} must hold lists in '{cfg.tokens_column}' and "
                    f"'{cfg.tags_column}'."
                )
            if len(words) != len(tags):
                raise LtxError(
                    f"Example {n} of the {what} has {len(words)} words but {len(tags)} tags."
                )
            rows.append((words, tags))
        return rows

    def build_meta(self, raw: dict[str, Any]) -> dict[str, Any]:
        cfg = self.config
        train = raw["train"]
        tags = [t for _, ts in self._rows("train", train) for t in ts]
        hub_names = feature_names(getattr(train, "features", None), cfg.tags_column)
        what = f"{SPLIT_NAMES['train']} data ({self.describe('train')})"
        labels = LabelSet.learn(tags, cfg.label_names, hub_names, what)
        if labels.kind == "str" and "O" in labels.names and not cfg.label_names:
            # "O" first, as in CoNLL: id 0 is the outside tag.
            labels = LabelSet(["O", *[n for n in labels.names if n != "O"]], "str")
        return {**labels.to_meta(), "num_labels": len(labels.names), "id2label": labels.id2label}

    def handoff(self) -> TokenClassificationData:
        return TokenClassificationData(**self.tokenized_data(), **self.meta)

    def check_split(self, split: str, ds: Any, meta: dict[str, Any]) -> None:
        labels = LabelSet.from_meta(meta, given=self.config.label_names is not None)
        what = f"{SPLIT_NAMES[split]} data ({self.describe(split)})"
        for _, tags in self._rows(split, ds):
            for tag in tags:
                labels.encode(tag, what)

    def tokenise(self, split: str, ds: Any, meta: dict[str, Any]) -> Any:
        cfg = self.config
        labels = LabelSet.from_meta(meta, given=cfg.label_names is not None)
        what = f"{SPLIT_NAMES[split]} data ({self.describe(split)})"
        tok = self.tokenizer

        def fn(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
            words = [[str(w) for w in ws] for ws in batch[cfg.tokens_column]]
            enc = tok(words, is_split_into_words=True, truncation=True, max_length=cfg.max_length)
            out = dict(enc)
            out["labels"] = [
                align_labels(
                    enc.word_ids(i), [labels.encode(t, what) for t in tags], cfg.label_all_tokens
                )
                for i, tags in enumerate(batch[cfg.tags_column])
            ]
            return out

        return self.map_batched(ds, fn, split)

    def collate_fn(self, split: str) -> Any:
        cfg = self.config
        return PadCollator(
            self.tokenizer,
            cfg.padding,
            cfg.max_length,
            cfg.pad_to_multiple_of,
            label_pad=IGNORE,
            labels_follow_inputs=True,
        )
