"""Text (and text-pair) classification data: single-label, multi-label or regression."""

from __future__ import annotations

from typing import Any

from ltx_core.errors import LtxError
from ltx_nlp_hf.config.data import TextClassificationDataConfig
from ltx_nlp_hf.data.base import SPLIT_NAMES, HFDataModule
from ltx_nlp_hf.data.labels import LabelSet, as_number, feature_names, split_multi

__all__ = ["TextClassificationDataModule"]

SINGLE = "single_label_classification"
MULTI = "multi_label_classification"
REGRESSION = "regression"


class TextClassificationDataModule(HFDataModule):
    """Rows with a text, an optional second text and a label."""

    config_model = TextClassificationDataConfig
    config: TextClassificationDataConfig

    def required_columns(self) -> dict[str, str]:
        cfg = self.config
        out = {cfg.text_column: "text_column", cfg.label_column: "label_column"}
        if cfg.text_pair_column:
            out[cfg.text_pair_column] = "text_pair_column"
        return out

    def reader_options(self) -> dict[str, Any]:
        return {"text_column": self.config.text_column}

    def usable(self, split: str, ds: Any) -> bool:
        labels = ds[self.config.label_column]
        return not all(as_number(v) == -1 for v in labels)

    def _problem_type(self, values: list[Any]) -> str:
        cfg = self.config
        if cfg.problem_type != "auto":
            return cfg.problem_type
        if cfg.label_separator or any(isinstance(v, (list, tuple)) for v in values):
            return MULTI
        numbers = [as_number(v) for v in values]
        if (
            values
            and all(n is not None for n in numbers)
            and any(isinstance(n, float) and not float(n).is_integer() for n in numbers)
        ):
            return REGRESSION
        return SINGLE

    def build_meta(self, raw: dict[str, Any]) -> dict[str, Any]:
        cfg = self.config
        train = raw["train"]
        values = list(train[cfg.label_column])
        problem = self._problem_type(values)
        what = f"{SPLIT_NAMES['train']} data ({self.describe('train')})"
        meta: dict[str, Any] = {"problem_type": problem, "text_pair": bool(cfg.text_pair_column)}
        if problem == REGRESSION:
            bad = next((v for v in values if as_number(v) is None), None)
            if bad is not None or any(v is None for v in values):
                raise LtxError(f"The {what} has the label {bad!r}, which is not a number.")
            meta.update(
                num_labels=1, id2label={0: "score"}, label_names=["score"], label_kind="float"
            )
            return meta
        hub_names = feature_names(getattr(train, "features", None), cfg.label_column)
        flat = (
            [x for v in values for x in split_multi(v, cfg.label_separator)]
            if problem == MULTI
            else values
        )
        labels = LabelSet.learn(flat, cfg.label_names, hub_names, what)
        if problem == SINGLE and len(labels.names) < 2:
            raise LtxError(
                f"The {what} has only one label ('{labels.names[0]}'); classification needs two "
                f"or more."
            )
        meta.update(labels.to_meta(), num_labels=len(labels.names), id2label=labels.id2label)
        return meta

    def _encoder(self, split: str, meta: dict[str, Any]) -> Any:
        cfg = self.config
        what = f"{SPLIT_NAMES[split]} data ({self.describe(split)})"
        problem = meta["problem_type"]
        if problem == REGRESSION:

            def encode(value: Any) -> Any:
                n = as_number(value)
                if n is None:
                    raise LtxError(f"The {what} has the label {value!r}, which is not a number.")
                return float(n)

            return encode
        labels = LabelSet.from_meta(meta)
        if problem == MULTI:
            width = len(labels.names)

            def encode_multi(value: Any) -> Any:
                hot = [0.0] * width
                for item in split_multi(value, cfg.label_separator):
                    hot[labels.encode(item, what)] = 1.0
                return hot

            return encode_multi
        return lambda value: labels.encode(value, what)

    def check_split(self, split: str, ds: Any, meta: dict[str, Any]) -> None:
        encode = self._encoder(split, meta)
        for value in ds[self.config.label_column]:
            encode(value)
        for column in (self.config.text_column, self.config.text_pair_column):
            if column and any(v is None for v in ds[column]):
                raise LtxError(
                    f"The {SPLIT_NAMES[split]} data ({self.describe(split)}) has an empty "
                    f"'{column}' value; every example needs a text."
                )

    def tokenise(self, split: str, ds: Any, meta: dict[str, Any]) -> Any:
        cfg = self.config
        encode = self._encoder(split, meta)
        tok = self.tokenizer

        def fn(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
            texts = [str(t) for t in batch[cfg.text_column]]
            pairs = [str(t) for t in batch[cfg.text_pair_column]] if cfg.text_pair_column else None
            enc = dict(tok(texts, pairs, truncation=True, max_length=cfg.max_length))
            enc["labels"] = [encode(v) for v in batch[cfg.label_column]]
            return enc

        return self.map_batched(ds, fn, split)
