"""Text (and text-pair) classification data: single-label, multi-label or regression.

Which columns hold the text and the label is inferred from the training data when
not configured, as Hugging Face's ``run_glue.py`` does (see :func:`infer_text_columns`).
"""

from __future__ import annotations

import logging
from typing import Any

from ltx_core.errors import LtxError
from ltx_nlp_hf.config.data import TextClassificationSourceConfig
from ltx_nlp_hf.data.base import SPLIT_NAMES, HFDataModule
from ltx_nlp_hf.data.labels import LabelSet, as_number, feature_names, split_multi
from ltx_nlp_hf.handoff import TextClassificationData

__all__ = ["TextClassificationDataModule", "infer_label_column", "infer_text_columns"]

log = logging.getLogger(__name__)

SINGLE = "single_label_classification"
MULTI = "multi_label_classification"
REGRESSION = "regression"


LABEL_COLUMNS = ("label", "labels")
#: Columns that name a text outright, when a file has more candidates than one or two.
TEXT_COLUMNS = ("text", "sentence", "review", "content")
#: Row identifiers (GLUE's ``idx``) are never a text.
ID_COLUMNS = ("id", "idx", "guid")


def infer_label_column(columns: list[str]) -> str | None:
    """``label``, else ``labels``, else ``None``."""
    return next((c for c in LABEL_COLUMNS if c in columns), None)


def infer_text_columns(columns: list[str], label: str) -> tuple[str, str | None] | None:
    """``(text, pair)`` as ``run_glue.py`` picks them, or ``None`` when it is ambiguous.

    ``sentence1``/``sentence2`` if present; else the columns besides the label (and ids):
    one is a single text, two are a pair; among more, the one obvious text name.
    """
    if "sentence1" in columns:
        return "sentence1", "sentence2" if "sentence2" in columns else None
    rest = [c for c in columns if c != label and c.lower() not in ID_COLUMNS]
    if len(rest) == 1:
        return rest[0], None
    if len(rest) == 2:
        return rest[0], rest[1]
    obvious = [c for c in rest if c.lower() in TEXT_COLUMNS]
    if len(obvious) == 1:
        return obvious[0], None
    return None


class TextClassificationDataModule(HFDataModule):
    """Rows with a text, an optional second text and a label.

    Records (from files, the Hub or :meth:`read_records`): ``text_column`` (a string),
    optionally ``text_pair_column`` (a string) and ``label_column``: an integer class id,
    a class name, a list of classes (multi-label) or a float (regression). Unset columns
    are inferred from the training rows. Batches hand the task ``input_ids``,
    ``attention_mask`` (and ``token_type_ids``) padded per batch, and ``labels``.
    :meth:`handoff` returns :class:`~ltx_nlp_hf.handoff.TextClassificationData`
    (``num_labels``, ``id2label``, ``label_names``, ``problem_type``, ``text_pair``).
    """

    config: TextClassificationSourceConfig
    files_dataset = "text-classification-files"

    def __init__(
        self, config: TextClassificationSourceConfig, *, tokenizer: Any = None, seed: int = 42
    ) -> None:
        super().__init__(config, tokenizer=tokenizer, seed=seed)
        self.text_column = config.text_column or "text"
        self.text_pair_column = config.text_pair_column
        self.label_column = config.label_column or "label"

    def resolve_columns(self, columns: list[str]) -> None:
        cfg = self.config
        where = f"The training data ({self.describe('train')})"
        inferred = []
        if cfg.label_column is None:
            label = infer_label_column(columns)
            if label is None:
                raise LtxError(
                    f"{where} has no 'label' or 'labels' column (its columns are: "
                    f"{', '.join(columns)}); set dataset.label_column."
                )
            self.label_column = label
            if label != "label":
                inferred.append(f"label '{label}'")
        if cfg.text_column is None and self.text_column not in columns:
            texts = infer_text_columns(
                [c for c in columns if c != cfg.text_pair_column], self.label_column
            )
            if texts is None:
                raise LtxError(
                    f"{where} has the columns {', '.join(columns)}, so which hold the text is "
                    f"ambiguous; set dataset.text_column (and dataset.text_pair_column for pairs)."
                )
            self.text_column = texts[0]
            if cfg.text_pair_column is None:
                self.text_pair_column = texts[1]
            inferred.append(
                f"text '{self.text_column}'"
                + (f" paired with '{self.text_pair_column}'" if self.text_pair_column else "")
            )
        if inferred:
            log.info(
                "Using the columns %s of the training data (set dataset.text_column, "
                "dataset.text_pair_column, dataset.label_column to choose others).",
                " and ".join(inferred),
            )

    def required_columns(self) -> dict[str, str]:
        out = {self.text_column: "text_column", self.label_column: "label_column"}
        if self.text_pair_column:
            out[self.text_pair_column] = "text_pair_column"
        return out

    def reader_options(self) -> dict[str, Any]:
        return {"text_column": self.text_column}

    def usable(self, split: str, ds: Any) -> bool:
        labels = ds[self.label_column]
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
        values = list(train[self.label_column])
        problem = self._problem_type(values)
        what = f"{SPLIT_NAMES['train']} data ({self.describe('train')})"
        meta: dict[str, Any] = {"problem_type": problem, "text_pair": bool(self.text_pair_column)}
        if problem == REGRESSION:
            bad = next((v for v in values if as_number(v) is None), None)
            if bad is not None or any(v is None for v in values):
                raise LtxError(f"The {what} has the label {bad!r}, which is not a number.")
            meta.update(
                num_labels=1, id2label={0: "score"}, label_names=["score"], label_kind="float"
            )
            return meta
        hub_names = feature_names(getattr(train, "features", None), self.label_column)
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

    def handoff(self) -> TextClassificationData:
        return TextClassificationData(**self.tokenized_data(), **self.meta)

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
        labels = LabelSet.from_meta(meta, given=cfg.label_names is not None)
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
        for value in ds[self.label_column]:
            encode(value)
        for column in (self.text_column, self.text_pair_column):
            if column and any(v is None for v in ds[column]):
                raise LtxError(
                    f"The {SPLIT_NAMES[split]} data ({self.describe(split)}) has an empty "
                    f"'{column}' value; every example needs a text."
                )

    def tokenise(self, split: str, ds: Any, meta: dict[str, Any]) -> Any:
        cfg = self.config
        encode = self._encoder(split, meta)
        tok = self.tokenizer
        text, pair, label = self.text_column, self.text_pair_column, self.label_column

        def fn(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
            texts = [str(t) for t in batch[text]]
            pairs = [str(t) for t in batch[pair]] if pair else None
            enc = dict(tok(texts, pairs, truncation=True, max_length=cfg.max_length))
            enc["labels"] = [encode(v) for v in batch[label]]
            return enc

        return self.map_batched(ds, fn, split)
