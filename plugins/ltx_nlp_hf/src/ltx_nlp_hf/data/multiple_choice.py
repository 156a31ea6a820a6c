"""Multiple-choice data: a context and several candidate endings, one of them right.

SWAG keeps each ending in its own column and the shared start of the endings in
``sent2``; RACE keeps an article, a question and a list of options with a letter as
the answer. Every choice is tokenised as the pair (context, question + ending).
"""

from __future__ import annotations

from typing import Any

from ltx_core.errors import LtxError
from ltx_nlp_hf.config.data import MultipleChoiceSourceConfig
from ltx_nlp_hf.data.base import SPLIT_NAMES, HFDataModule
from ltx_nlp_hf.data.collate import MultipleChoiceCollator
from ltx_nlp_hf.data.labels import as_number
from ltx_nlp_hf.handoff import MultipleChoiceData

__all__ = ["MultipleChoiceDataModule", "choice_index"]


def choice_index(value: Any, n_choices: int) -> int | None:
    """The index of the right choice from an index or a letter (A = 0)."""
    n = as_number(value)
    if isinstance(n, int):
        return n if 0 <= n < n_choices else None
    if isinstance(value, str) and len(value.strip()) == 1 and value.strip().isalpha():
        i = ord(value.strip().upper()) - ord("A")
        return i if 0 <= i < n_choices else None
    return None


class MultipleChoiceDataModule(HFDataModule):
    """Rows with a context, an optional question, endings (columns or a list) and a label.

    Records: ``context_column``, optionally ``question_column``, the endings (one
    ``ending_columns`` column each, or a list in ``options_column``) and ``label_column``
    (an index or a letter). Batches hand the task ``input_ids`` and ``attention_mask``
    of shape (batch, choices, tokens) and ``labels``. :meth:`handoff` returns
    :class:`~ltx_nlp_hf.handoff.MultipleChoiceData` (``num_choices``).
    """

    config: MultipleChoiceSourceConfig
    files_dataset = "multiple-choice-files"

    def required_columns(self) -> dict[str, str]:
        cfg = self.config
        out = {cfg.context_column: "context_column", cfg.label_column: "label_column"}
        if cfg.question_column:
            out[cfg.question_column] = "question_column"
        if cfg.options_column:
            out[cfg.options_column] = "options_column"
        else:
            for column in cfg.ending_columns or []:
                out[column] = "ending_columns"
        return out

    def _endings(self, batch: dict[str, list[Any]], i: int) -> list[str]:
        cfg = self.config
        if cfg.options_column:
            return [str(o) for o in batch[cfg.options_column][i]]
        return [str(batch[c][i]) for c in cfg.ending_columns or []]

    def build_meta(self, raw: dict[str, Any]) -> dict[str, Any]:
        train = raw["train"][:1]
        return {"num_choices": len(self._endings(train, 0))}

    def handoff(self) -> MultipleChoiceData:
        return MultipleChoiceData(**self.tokenized_data(), **self.meta)

    def check_split(self, split: str, ds: Any, meta: dict[str, Any]) -> None:
        cfg = self.config
        n_choices = meta["num_choices"]
        what = f"{SPLIT_NAMES[split]} data ({self.describe(split)})"
        rows = ds[:]
        for i in range(len(ds)):
            endings = self._endings(rows, i)
            if len(endings) != n_choices:
                raise LtxError(
                    f"Example {i + 1} of the {what} has {len(endings)} choices; every example "
                    f"needs {n_choices}, as the first training example has."
                )
            if choice_index(rows[cfg.label_column][i], n_choices) is None:
                raise LtxError(
                    f"Example {i + 1} of the {what} has the label "
                    f"'{rows[cfg.label_column][i]}', which is not a choice (0..{n_choices - 1} "
                    f"or A..{chr(ord('A') + n_choices - 1)})."
                )

    def tokenise(self, split: str, ds: Any, meta: dict[str, Any]) -> Any:
        cfg = self.config
        tok = self.tokenizer
        n = meta["num_choices"]

        def fn(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
            size = len(batch[cfg.context_column])
            firsts, seconds = [], []
            for i in range(size):
                context = str(batch[cfg.context_column][i])
                question = str(batch[cfg.question_column][i]) if cfg.question_column else ""
                for ending in self._endings(batch, i):
                    firsts.append(context)
                    seconds.append(f"{question} {ending}".strip())
            enc = tok(firsts, seconds, truncation=True, max_length=cfg.max_length)
            out = {k: [v[i * n : (i + 1) * n] for i in range(size)] for k, v in enc.items()}
            out["labels"] = [choice_index(v, n) for v in batch[cfg.label_column]]
            return out

        return self.map_batched(ds, fn, split)

    def collate_fn(self, split: str) -> Any:
        cfg = self.config
        return MultipleChoiceCollator(
            self.tokenizer, cfg.padding, cfg.max_length, cfg.pad_to_multiple_of
        )
