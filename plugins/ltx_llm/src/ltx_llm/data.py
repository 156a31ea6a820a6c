"""``ChatDataModule``: conversation records in, checked and (for training) packed
token sequences out.

Records come from ltx-nlp-hf's readers (any file format it reads, or a record source
overriding ``read_records``) and may be in any shape of :mod:`ltx_llm.conversations`.
Before the first step every example is rendered with the chat template and checked
(:mod:`ltx_llm.rendering`): problems are counted by kind, the first one shown in one
sentence, and a split where every example fails is refused (exit 2). The counts, the
truncation count and the packing layout are logged at every setup and kept with the
cached data.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from ltx_nlp_hf.data.base import SPLIT_NAMES, HFDataModule

from ltx_core.errors import LtxError
from ltx_llm.config import ChatDataConfig
from ltx_llm.conversations import BadRecord, to_messages
from ltx_llm.handoff import ChatData
from ltx_llm.packing import ChatCollator, PackedCollator, pack, padding_fraction
from ltx_llm.rendering import RenderProblem, prompt_ids, render, resolve_template

__all__ = ["ChatDataModule", "Checks", "render_split"]

log = logging.getLogger(__name__)


class Checks:
    """The problems found while rendering a split: counted by kind, the first sentence of
    each kind kept."""

    def __init__(self) -> None:
        self.problems: Counter[str] = Counter()
        self.first: dict[str, str] = {}

    def each(
        self, rows: list[dict[str, Any]], convert: Callable[[dict[str, Any]], Any]
    ) -> Iterator[Any]:
        """``convert(row)`` of every row that converts; the others are counted here."""
        for n, row in enumerate(rows, start=1):
            try:
                if row.get("error"):  # found unreadable when the records were read
                    raise BadRecord(row["error"])
                result = convert(row)
            except BadRecord as exc:
                self.add("format", n, str(exc))
                continue
            except RenderProblem as exc:
                self.add(exc.kind, n, str(exc))
                continue
            yield result

    def add(self, kind: str, n: int, sentence: str) -> None:
        self.problems[kind] += 1
        self.first.setdefault(kind, f"record {n}: {sentence}")


def render_split(
    rows: list[dict[str, Any]],
    tokenizer: Any,
    *,
    template: str,
    max_length: int,
    train_on_prompt: bool,
    with_reference: bool = False,
) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """Every record rendered and checked: ``(columns, report)``.

    ``columns`` holds ``input_ids``, ``labels`` and ``trained`` per kept example (and
    ``prompt_ids`` and ``reference`` for those ending with an answer, when
    ``with_reference``); ``report`` counts examples, problems by kind with the first
    sentence of each, truncations and answers cut.
    """
    cols: dict[str, list[Any]] = {"input_ids": [], "labels": [], "trained": []}
    if with_reference:
        cols |= {"prompt_ids": [], "reference": []}
    checks = Checks()
    truncated = answers_cut = 0

    def convert(row: dict[str, Any]) -> tuple[list[Any], Any]:
        messages = to_messages(row)
        return messages, render(
            tokenizer,
            messages,
            template=template,
            max_length=max_length,
            train_on_prompt=train_on_prompt,
        )

    for messages, out in checks.each(rows, convert):
        truncated += out.truncated
        answers_cut += out.answers_cut
        cols["input_ids"].append(out.input_ids)
        cols["labels"].append(out.labels)
        cols["trained"].append(out.trained)
        if with_reference:
            last = len(messages) - 1
            ends_with_answer = messages[last]["role"] == "assistant" and not out.answers_cut
            cols["prompt_ids"].append(
                prompt_ids(tokenizer, messages[:last], template=template)
                if ends_with_answer
                else []
            )
            cols["reference"].append(messages[last]["content"] if ends_with_answer else "")
    report = {
        "records": len(rows),
        "examples": len(cols["input_ids"]),
        "problems": dict(checks.problems),
        "first_problem": checks.first,
        "truncated": truncated,
        "answers_cut": answers_cut,
        "trained_tokens": sum(sum(t) for t in cols["trained"]),
        "tokens": sum(len(i) for i in cols["input_ids"]),
    }
    return cols, report


class ChatDataModule(HFDataModule):
    """Conversation files for the ``chat`` task.

    Records: any shape of :mod:`ltx_llm.conversations`. Examples: ``input_ids`` and
    ``labels`` (:data:`~ltx_llm.rendering.IGNORE` where not trained); training rows are
    packed when packing is on (``lengths`` says where each conversation starts); test
    examples carry ``prompt_ids`` and ``reference`` for generated answers. Hand-off:
    :class:`~ltx_llm.handoff.ChatData`.
    """

    config: ChatDataConfig
    files_dataset = "chat-files"

    def reader_options(self) -> dict[str, Any]:
        return {}

    def prepare_records(self, records: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
        """Every record as ``{"messages": [...], "error": ...}``: one table schema whatever
        shapes a file mixes (a table takes its columns from the first record), and a
        record that is no conversation keeps its place and its sentence for the checks."""
        return [normalise(record, to_messages) for record in records]

    def build_meta(self, raw: dict[str, Any]) -> dict[str, Any]:
        template = resolve_template(self.tokenizer, self.config.chat_template)
        # Prompts at predict and chat time render with the same template.
        self.tokenizer.chat_template = template
        return {"chat_template": template, "reports": {}}

    def tokenise(self, split: str, ds: Any, meta: dict[str, Any]) -> Any:
        from datasets import Dataset

        cfg = self.config
        cols, report = render_split(
            [dict(r) for r in ds],
            self.tokenizer,
            template=meta["chat_template"],
            max_length=cfg.max_length,
            train_on_prompt=cfg.train_on_prompt,
            with_reference=split == "test",
        )
        name = SPLIT_NAMES[split]
        if report["examples"] == 0:
            sentence = next(iter(report["first_problem"].values()), "it holds no records")
            raise LtxError(
                f"No example of the {name} data ({self.describe(split)}) can be trained on; "
                f"the first problem: {sentence}."
            )
        if split == "train":
            lengths = [len(i) for i in cols["input_ids"]]
            packed = self._packing(lengths)
            report["padding_unpacked"] = padding_fraction(lengths, cfg.batch_size)
            if packed:
                rows = pack(lengths, cfg.max_length)
                report["packed_rows"] = len(rows)
                report["padding_packed"] = padding_fraction(
                    [sum(lengths[i] for i in r) for r in rows], cfg.batch_size
                )
                cols = {
                    "input_ids": [_concat(cols["input_ids"], r) for r in rows],
                    "labels": [_labels_of_row(cols["labels"], r) for r in rows],
                    "lengths": [[lengths[i] for i in r] for r in rows],
                }
            else:
                cols = {"input_ids": cols["input_ids"], "labels": cols["labels"]}
        else:
            cols.pop("trained")
        meta["reports"][split] = report
        return Dataset.from_dict(cols)

    def _packing(self, lengths: list[int]) -> bool:
        mode = self.config.packing
        if mode != "auto":
            return bool(mode)
        # Where it pays: with conversations at most half the row, padding would be most of
        # every batch.
        return sum(lengths) / max(len(lengths), 1) <= self.config.max_length / 2

    @property
    def packed(self) -> bool:
        """Whether the training rows are packed."""
        return "packed_rows" in self.meta.get("reports", {}).get("train", {})

    def load_splits(self) -> dict[str, Any]:
        splits = super().load_splits()
        # The template the data was rendered with is the tokenizer's from now on (a cache
        # hit skipped build_meta).
        self.tokenizer.chat_template = self.meta["chat_template"]
        for split, report in self.meta.get("reports", {}).items():
            log_report(SPLIT_NAMES[split], self.describe(split), report, self.config.max_length)
        return splits

    def collate_fn(self, split: str) -> Callable[[list[Any]], Any] | None:
        pad = int(self.tokenizer.pad_token_id)
        if split == "train" and self.packed:
            return PackedCollator(pad)
        return ChatCollator(pad)

    def handoff(self) -> ChatData:
        tok = self.tokenizer
        data = self.tokenized_data()
        eot = tok.eos_token or ""
        return ChatData(
            **data,
            chat_template=self.meta["chat_template"],
            end_of_turn=eot,
            train_on_prompt=self.config.train_on_prompt,
        )


def normalise(record: dict[str, Any], convert: Callable[..., Any]) -> dict[str, Any]:
    """``{"messages": convert(record), "error": None}``, or the error's sentence."""
    try:
        return {"messages": convert(record), "error": None}
    except BadRecord as exc:
        return {"messages": [], "error": str(exc)}


def _concat(parts: list[list[int]], row: list[int]) -> list[int]:
    return [t for i in row for t in parts[i]]


def _labels_of_row(labels: list[list[int]], row: list[int]) -> list[int]:
    out: list[int] = []
    for i in row:
        part = list(labels[i])
        # No example learns to predict the start of the next one.
        part[0] = -100
        out.extend(part)
    return out


def log_report(name: str, source: str, report: dict[str, Any], max_length: int) -> None:
    """The data checks' findings, one line each: counts, truncation, packing."""
    problems = report.get("problems", {})
    bad = sum(problems.values())
    line = (
        f"Chat data, {name} ({source}): {report['examples']} of {report['records']} "
        f"conversations usable, {report['trained_tokens']} of {report['tokens']} tokens trained"
    )
    if "packed_rows" in report:
        line += (
            f"; packed into {report['packed_rows']} rows (padding "
            f"{report['padding_packed']:.0%}, unpacked {report['padding_unpacked']:.0%})"
        )
    log.info("%s.", line)
    if report.get("truncated"):
        # Shown (a warning): the user's data lost answers to max_length.
        log.warning(
            "Chat data, %s: %d conversations longer than max_length %d kept their leading turns "
            "(%d answers left out); raise dataset.max_length to keep them.",
            name,
            report["truncated"],
            max_length,
            report["answers_cut"],
        )
    if bad:
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(problems.items()))
        first = next(iter(report["first_problem"].values()))
        log.warning(
            "Chat data, %s: %d conversations left out (%s); the first: %s.", name, bad, kinds, first
        )
