"""Scores of generated answers against references: normalised exact match, token F1
(SQuAD's normalisation: lower case, no punctuation or articles) and ROUGE-L."""

from __future__ import annotations

from collections.abc import Sequence

from ltx_nlp_hf.metrics import rouge, squad_metrics

__all__ = ["answer_metrics"]


def answer_metrics(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Means of ``exact_match``, ``f1`` and ``rougeL`` over the predictions, each against
    its one reference, as fractions (0-1: the chat benchmarks quote exact match so)."""
    if not references:
        return {}
    squad = squad_metrics(list(predictions), [[r] for r in references])
    scores = rouge(list(predictions), list(references))
    return {
        "exact_match": squad["exact_match"] / 100.0,
        "f1": squad["f1"] / 100.0,
        "rougeL": scores["rougeL"] / 100.0,
    }
