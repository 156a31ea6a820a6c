"""Extractive QA data in the SQuAD schema (v1 and v2).

Long contexts become several overlapping windows. Training windows carry the answer's
token span (or [CLS] when the answer is not inside); evaluation windows carry their
example index, character offsets and [CLS] position, and the untokenised examples
are kept beside them so predicted spans can be turned back into text.
"""

from __future__ import annotations

from typing import Any

from ltx_core.errors import LtxError
from ltx_nlp_hf.config.data import QuestionAnsweringSourceConfig
from ltx_nlp_hf.data.base import SPLIT_NAMES, HFDataModule
from ltx_nlp_hf.data.collate import PadCollator
from ltx_nlp_hf.handoff import QuestionAnsweringData
from ltx_nlp_hf.qa import tokenise_windows, train_positions

__all__ = ["QuestionAnsweringDataModule", "flatten_squad", "normalise_answers"]


def flatten_squad(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The official nested SQuAD layout (articles -> paragraphs -> qas) as flat records."""
    out = []
    for article in records:
        for paragraph in article.get("paragraphs", []):
            for qa in paragraph.get("qas", []):
                answers = qa.get("answers", [])
                out.append(
                    {
                        "id": qa.get("id"),
                        "title": article.get("title", ""),
                        "context": paragraph.get("context", ""),
                        "question": qa.get("question", ""),
                        "answers": {
                            "text": [a["text"] for a in answers],
                            "answer_start": [a["answer_start"] for a in answers],
                        },
                    }
                )
    return out


def normalise_answers(value: Any) -> dict[str, list[Any]]:
    """``{"text": [...], "answer_start": [...]}`` from that or a list of answer objects."""
    if value is None:
        return {"text": [], "answer_start": []}
    if isinstance(value, dict):
        texts = value.get("text", [])
        starts = value.get("answer_start", [])
        if isinstance(texts, str):
            texts, starts = [texts], [starts]
        return {"text": list(texts), "answer_start": [int(s) for s in starts]}
    if isinstance(value, list):
        return {
            "text": [a["text"] for a in value],
            "answer_start": [int(a["answer_start"]) for a in value],
        }
    raise ValueError(f"unreadable answers {value!r}")


class QuestionAnsweringDataModule(HFDataModule):
    """Questions about contexts, answered by spans of the context.

    Records: ``question_column``, ``context_column`` (strings), ``answers_column``
    (``{"text": [...], "answer_start": [...]}`` or a list of ``{"text", "answer_start"}``;
    empty for unanswerable SQuAD v2 questions) and optionally ``id_column``. Training
    batches hand the task ``input_ids``, ``attention_mask``, ``start_positions`` and
    ``end_positions``; evaluation batches a ``feature_index`` into the kept windows.
    :meth:`handoff` returns :class:`~ltx_nlp_hf.handoff.QuestionAnsweringData`
    (``doc_stride``, ``version_2_with_negative``).
    """

    config: QuestionAnsweringSourceConfig
    files_dataset = "question-answering-files"

    def required_columns(self) -> dict[str, str]:
        cfg = self.config
        return {
            cfg.question_column: "question_column",
            cfg.context_column: "context_column",
            cfg.answers_column: "answers_column",
        }

    def prepare_records(self, records: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
        if records and "paragraphs" in records[0]:
            return flatten_squad(records)
        return records

    def _answers(self, split: str, ds: Any) -> list[dict[str, list[Any]]]:
        cfg = self.config
        out = []
        for n, (value, context) in enumerate(
            zip(ds[cfg.answers_column], ds[cfg.context_column], strict=True), start=1
        ):
            try:
                answers = normalise_answers(value)
            except (KeyError, TypeError, ValueError):
                raise LtxError(
                    f"Example {n} of the {SPLIT_NAMES[split]} data ({self.describe(split)}) has "
                    f"answers that are not {{'text': [...], 'answer_start': [...]}}."
                ) from None
            for text, start in zip(answers["text"], answers["answer_start"], strict=False):
                if start < 0 or start + len(text) > len(context or ""):
                    raise LtxError(
                        f"Example {n} of the {SPLIT_NAMES[split]} data ({self.describe(split)}) "
                        f"has an answer starting at {start}, outside its context."
                    )
            out.append(answers)
        return out

    def build_meta(self, raw: dict[str, Any]) -> dict[str, Any]:
        cfg = self.config
        unanswered = any(not a["text"] for a in self._answers("train", raw["train"]))
        v2 = cfg.version_2_with_negative if cfg.version_2_with_negative is not None else unanswered
        return {"version_2_with_negative": bool(v2), "doc_stride": cfg.doc_stride}

    def handoff(self) -> QuestionAnsweringData:
        return QuestionAnsweringData(**self.tokenized_data(), **self.meta)

    def check_split(self, split: str, ds: Any, meta: dict[str, Any]) -> None:
        answers = self._answers(split, ds)
        if not meta["version_2_with_negative"]:
            missing = next((n for n, a in enumerate(answers, start=1) if not a["text"]), None)
            if missing is not None:
                raise LtxError(
                    f"Example {missing} of the {SPLIT_NAMES[split]} data ({self.describe(split)}) "
                    f"has no answer; set dataset.version_2_with_negative=true for SQuAD v2 data."
                )

    def tokenise(self, split: str, ds: Any, meta: dict[str, Any]) -> Any:
        cfg = self.config
        tok = self.tokenizer
        train = split == "train"

        def fn(batch: dict[str, list[Any]], rows: list[int]) -> dict[str, list[Any]]:
            contexts = [str(c) for c in batch[cfg.context_column]]
            questions = [str(q) for q in batch[cfg.question_column]]
            enc, examples, offsets, cls = tokenise_windows(
                tok, questions, contexts, cfg.max_length, cfg.doc_stride
            )
            if train:
                starts, ends = [], []
                for i, ex in enumerate(examples):
                    answers = normalise_answers(batch[cfg.answers_column][ex])
                    first = (
                        (answers["answer_start"][0], answers["text"][0])
                        if answers["text"]
                        else (None, None)
                    )
                    s, e = train_positions(offsets[i], cls[i], *first)
                    starts.append(s)
                    ends.append(e)
                enc["start_positions"] = starts
                enc["end_positions"] = ends
            else:
                # Windows refer to their example by its row in the whole split, not the batch.
                enc["example_index"] = [rows[ex] for ex in examples]
                enc["offset_mapping"] = [[list(o) if o else None for o in offs] for offs in offsets]
                enc["cls_index"] = cls
            return enc

        out = self.map_batched(ds, fn, split, with_indices=True)
        if not train:
            out = out.add_column("feature_index", list(range(len(out))))
        return out

    def extra_parts(self, split: str, raw: Any, meta: dict[str, Any]) -> dict[str, Any]:
        if split == "train":
            return {}
        from datasets import Dataset

        cfg = self.config
        ids = raw[cfg.id_column] if cfg.id_column in raw.column_names else range(len(raw))
        return {
            f"{split}_examples": Dataset.from_dict(
                {
                    "id": [str(i) for i in ids],
                    "context": [str(c) for c in raw[cfg.context_column]],
                    "answers": self._answers(split, raw),
                }
            )
        }

    def collate_fn(self, split: str) -> Any:
        cfg = self.config
        if split == "train":
            return PadCollator(
                self.tokenizer,
                cfg.padding,
                cfg.max_length,
                cfg.pad_to_multiple_of,
                scalars=("start_positions", "end_positions"),
            )
        return PadCollator(
            self.tokenizer,
            cfg.padding,
            cfg.max_length,
            cfg.pad_to_multiple_of,
            drop=("offset_mapping", "example_index", "cls_index"),
            scalars=("feature_index",),
        )
