"""Extractive QA: split long contexts into overlapping windows, and map the model's start
and end scores back to answer text in the original context.

Pure Python and numpy; used by the QA dataset (training and evaluation features), by
the task at evaluation, and by ``ltx predict``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["best_answers", "tokenise_windows", "train_positions"]


def tokenise_windows(
    tokenizer: Any,
    questions: Sequence[str],
    contexts: Sequence[str],
    max_length: int,
    stride: int,
) -> tuple[dict[str, list[Any]], list[int], list[list[tuple[int, int] | None]], list[int]]:
    """Tokenise (question, context) pairs into windows of at most ``max_length`` tokens.

    Returns the encoding (input ids and masks, one row per window), each window's
    example index, its character offsets with everything but context tokens set to
    ``None``, and the index of its [CLS] token (where "no answer" points).
    """
    pad_right = tokenizer.padding_side == "right"
    # Leading spaces in questions waste window space and confuse some tokenizers.
    qs = [q.lstrip() for q in questions]
    enc = tokenizer(
        qs if pad_right else list(contexts),
        list(contexts) if pad_right else qs,
        truncation="only_second" if pad_right else "only_first",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    context_index = 1 if pad_right else 0
    sample_map = list(enc.pop("overflow_to_sample_mapping"))
    offsets = []
    cls_indices = []
    for i, offs in enumerate(enc.pop("offset_mapping")):
        seq = enc.sequence_ids(i)
        offsets.append([tuple(o) if seq[k] == context_index else None for k, o in enumerate(offs)])
        ids = enc["input_ids"][i]
        cls_id = tokenizer.cls_token_id
        cls_indices.append(ids.index(cls_id) if cls_id is not None and cls_id in ids else 0)
    return dict(enc), sample_map, offsets, cls_indices


def train_positions(
    offsets: list[tuple[int, int] | None],
    cls_index: int,
    answer_start: int | None,
    answer_text: str | None,
) -> tuple[int, int]:
    """Token start and end of the answer in one window ([CLS] twice when it is not inside)."""
    if answer_start is None or not answer_text:
        return cls_index, cls_index
    start_char = answer_start
    end_char = start_char + len(answer_text)
    context = [k for k, o in enumerate(offsets) if o is not None]
    if not context:
        return cls_index, cls_index
    first, last = context[0], context[-1]
    if offsets[first][0] > start_char or offsets[last][1] < end_char:  # type: ignore[index]
        return cls_index, cls_index
    start = first
    while start <= last and offsets[start] is not None and offsets[start][0] <= start_char:  # type: ignore[index]
        start += 1
    end = last
    while end >= first and offsets[end] is not None and offsets[end][1] >= end_char:  # type: ignore[index]
        end -= 1
    return start - 1, end + 1


def best_answers(
    contexts: Sequence[str],
    windows: Sequence[tuple[int, list[tuple[int, int] | None], int]],
    start_logits: Sequence[np.ndarray],
    end_logits: Sequence[np.ndarray],
    *,
    n_best: int = 20,
    max_answer_length: int = 30,
    with_negative: bool = False,
    null_threshold: float = 0.0,
) -> list[dict[str, Any]]:
    """The best answer of every example from its windows' scores.

    ``windows[i]`` is ``(example index, offsets, cls index)`` for the scores
    ``start_logits[i]``/``end_logits[i]``. With ``with_negative`` (SQuAD v2), an
    example answers "" when the best window's [CLS] score beats the best span by
    more than ``null_threshold``. Examples without windows answer "".
    """
    best: dict[int, dict[str, Any]] = {}
    null: dict[int, float] = {}
    for (ex, offsets, cls), starts, ends in zip(windows, start_logits, end_logits, strict=True):
        starts = np.asarray(starts, dtype=np.float64)
        ends = np.asarray(ends, dtype=np.float64)
        score_null = float(starts[cls] + ends[cls])
        null[ex] = min(null.get(ex, score_null), score_null)
        top_s = np.argsort(starts)[::-1][:n_best]
        top_e = np.argsort(ends)[::-1][:n_best]
        for s in top_s:
            for e in top_e:
                if s >= len(offsets) or e >= len(offsets):
                    continue
                if offsets[s] is None or offsets[e] is None:
                    continue
                if e < s or e - s + 1 > max_answer_length:
                    continue
                score = float(starts[s] + ends[e])
                if ex not in best or score > best[ex]["score"]:
                    text = contexts[ex][offsets[s][0] : offsets[e][1]]
                    best[ex] = {
                        "text": text,
                        "score": score,
                        "start": offsets[s][0],
                        "end": offsets[e][1],
                    }
    out = []
    for ex in range(len(contexts)):
        cand = best.get(ex)
        if cand is None or (
            with_negative and null.get(ex, -np.inf) - cand["score"] > null_threshold
        ):
            out.append({"text": "", "score": null.get(ex, 0.0), "start": None, "end": None})
        else:
            out.append(cand)
    return out
