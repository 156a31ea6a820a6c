"""``PreferenceDataModule``: prompt/chosen/rejected records in, checked pairs out.

Each record (:func:`~ltx_llm.conversations.to_preference`: strings or message lists,
or chosen/rejected conversations sharing their prompt) is rendered twice with the chat
template, prompt + chosen and prompt + rejected, and checked as chat examples are
(:mod:`ltx_llm.rendering`): the answer's tokens are the trained ones, the end-of-turn
token included, and truncation never cuts an answer. Each example keeps its position
in its split (``example_id``), which the task's cached reference log-probabilities
are indexed by. Batches put the chosen rows first and the rejected rows after them,
so one forward pass scores both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from ltx_nlp_hf.data.base import SPLIT_NAMES

from ltx_core.errors import LtxError
from ltx_llm.conversations import BadRecord, to_preference
from ltx_llm.data import ChatDataModule, Checks
from ltx_llm.packing import pad
from ltx_llm.rendering import IGNORE, RenderProblem, prompt_ids, render

__all__ = ["PairCollator", "PreferenceDataModule", "pairs_digest", "render_pairs"]


def render_pairs(
    rows: list[dict[str, Any]], tokenizer: Any, *, template: str, max_length: int
) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """Every preference record rendered and checked: ``(columns, report)``."""
    names = ("chosen_ids", "chosen_labels", "rejected_ids", "rejected_labels", "prompt_ids")
    cols: dict[str, list[Any]] = {k: [] for k in (*names, "reference")}
    checks = Checks()

    def convert(row: dict[str, Any]) -> tuple[list[Any], list[Any], list[Any]]:
        prompt, chosen, rejected = to_preference(row)
        both = [
            render(tokenizer, prompt + answer, template=template, max_length=max_length)
            for answer in (chosen, rejected)
        ]
        start = len(prompt_ids(tokenizer, prompt, template=template))
        for out in both:
            # Only the answer is scored: turns of the prompt stay untrained even when the
            # prompt holds earlier assistant turns.
            out.trained[:start] = [False] * min(start, len(out.trained))
            if out.truncated or not any(out.trained):
                raise RenderProblem(
                    "truncated",
                    f"its answer does not fit in max_length {max_length}, so truncation "
                    "would cut it away",
                )
        return prompt, chosen, both

    for prompt, chosen, both in checks.each(rows, convert):
        cols["chosen_ids"].append(both[0].input_ids)
        cols["chosen_labels"].append(both[0].labels)
        cols["rejected_ids"].append(both[1].input_ids)
        cols["rejected_labels"].append(both[1].labels)
        cols["prompt_ids"].append(prompt_ids(tokenizer, prompt, template=template))
        cols["reference"].append(chosen[0]["content"])
    cols["example_id"] = list(range(len(cols["chosen_ids"])))
    trained = sum(sum(t != IGNORE for t in lab) for lab in cols["chosen_labels"])
    report = {
        "records": len(rows),
        "examples": len(cols["chosen_ids"]),
        "problems": dict(checks.problems),
        "first_problem": checks.first,
        "truncated": 0,
        "answers_cut": 0,
        "trained_tokens": trained,
        "tokens": sum(len(i) for i in cols["chosen_ids"]),
    }
    return cols, report


def pairs_digest(ds: Any) -> str:
    """A hash of a split's pairs, which the cached reference log-probabilities belong to."""
    h = hashlib.sha256()
    for key in ("chosen_ids", "chosen_labels", "rejected_ids", "rejected_labels"):
        for row in ds[key]:
            h.update(repr(row).encode())
    return h.hexdigest()[:32]


@dataclass
class PairCollator:
    """Chosen rows, then rejected rows, right-padded; ``example_id`` per pair; the prompt
    (left-padded) and the chosen answer for generated answers."""

    pad_token_id: int

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        ids = [f["chosen_ids"] for f in features] + [f["rejected_ids"] for f in features]
        labels = [f["chosen_labels"] for f in features] + [f["rejected_labels"] for f in features]
        prompts = [f["prompt_ids"] for f in features]
        return {
            "input_ids": pad(ids, self.pad_token_id),
            "attention_mask": pad([[1] * len(r) for r in ids], 0),
            "labels": pad(labels, IGNORE),
            "example_id": torch.tensor([f["example_id"] for f in features]),
            "prompt_ids": pad(prompts, self.pad_token_id, side="left"),
            "prompt_mask": pad([[1] * len(p) for p in prompts], 0, side="left"),
            "reference": [f["reference"] for f in features],
        }


class PreferenceDataModule(ChatDataModule):
    """Preference files for the ``preference`` task: prompt/chosen/rejected records
    (strings or message lists), or chosen/rejected conversations with a shared prompt.
    Hand-off: :class:`~ltx_llm.handoff.ChatData`."""

    files_dataset = "preference-files"

    def prepare_records(self, records: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
        """Every record as ``{"prompt", "chosen", "rejected": message lists, "error"}``
        (one table schema, whatever forms a file mixes)."""
        out: list[dict[str, Any]] = []
        for record in records:
            try:
                prompt, chosen, rejected = to_preference(record)
                out.append(
                    {"prompt": prompt, "chosen": chosen, "rejected": rejected, "error": None}
                )
            except BadRecord as exc:
                out.append({"prompt": [], "chosen": [], "rejected": [], "error": str(exc)})
        return out

    def tokenise(self, split: str, ds: Any, meta: dict[str, Any]) -> Any:
        from datasets import Dataset

        cols, report = render_pairs(
            [dict(r) for r in ds],
            self.tokenizer,
            template=meta["chat_template"],
            max_length=self.config.max_length,
        )
        if report["examples"] == 0:
            sentence = next(iter(report["first_problem"].values()), "it holds no records")
            raise LtxError(
                f"No pair of the {SPLIT_NAMES[split]} data ({self.describe(split)}) can be "
                f"trained on; the first problem: {sentence}."
            )
        meta["reports"][split] = report
        return Dataset.from_dict(cols)

    @property
    def packed(self) -> bool:
        return False

    def collate_fn(self, split: str) -> Callable[[list[Any]], Any] | None:
        return PairCollator(int(self.tokenizer.pad_token_id))
