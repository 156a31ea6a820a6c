"""Evaluation metrics, computed on whole evaluation sets (never averaged over batches).

Classification: accuracy, F1, Matthews correlation; regression: Pearson, Spearman;
NER: entity-level precision/recall/F1 (seqeval); QA: SQuAD exact match and F1;
generation: ROUGE (rouge-score) and sacreBLEU. Scores that are percentages in their
own tradition (SQuAD, ROUGE, BLEU) are reported as 0-100 like there; the others 0-1.
"""

from __future__ import annotations

import collections
import re
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "bleu",
    "classification_metrics",
    "multilabel_metrics",
    "regression_metrics",
    "rouge",
    "seqeval_metrics",
    "squad_metrics",
]


def _f1_per_class(preds: np.ndarray, labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    f1 = np.zeros(n)
    support = np.zeros(n)
    for c in range(n):
        tp = np.sum((preds == c) & (labels == c))
        fp = np.sum((preds == c) & (labels != c))
        fn = np.sum((preds != c) & (labels == c))
        f1[c] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        support[c] = np.sum(labels == c)
    return f1, support


def classification_metrics(
    preds: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    num_labels: int,
    average: str = "auto",
) -> dict[str, float]:
    """Accuracy, F1 (binary on class 1 for two classes, else macro by default) and MCC."""
    p = np.asarray(preds, dtype=np.int64)
    y = np.asarray(labels, dtype=np.int64)
    if len(y) == 0:
        return {}
    out = {"acc": float(np.mean(p == y))}
    f1, support = _f1_per_class(p, y, num_labels)
    if average == "auto":
        average = "binary" if num_labels == 2 else "macro"
    if average == "binary":
        out["f1"] = float(f1[1])
    elif average == "macro":
        out["f1"] = float(np.mean(f1))
    elif average == "weighted":
        out["f1"] = float(np.sum(f1 * support) / max(1, support.sum()))
    else:  # micro F1 equals accuracy for single-label data
        out["f1"] = out["acc"]
    out["mcc"] = _mcc(p, y, num_labels)
    return out


def _mcc(p: np.ndarray, y: np.ndarray, n: int) -> float:
    """Matthews correlation (multi-class form), 0 when undefined."""
    c = np.zeros((n, n))
    np.add.at(c, (y, p), 1)
    t, pk = c.sum(axis=1), c.sum(axis=0)
    s, correct = c.sum(), np.trace(c)
    denom = np.sqrt((s**2 - np.dot(pk, pk)) * (s**2 - np.dot(t, t)))
    return float((correct * s - np.dot(t, pk)) / denom) if denom else 0.0


def multilabel_metrics(probs: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    """Micro F1 over all (example, class) decisions, and exact-set accuracy."""
    pred = np.asarray(probs) > threshold
    y = np.asarray(labels) > 0.5
    if y.size == 0:
        return {}
    tp = np.sum(pred & y)
    fp = np.sum(pred & ~y)
    fn = np.sum(~pred & y)
    return {
        "f1": float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else 1.0,
        "acc": float(np.mean(np.all(pred == y, axis=1))),
    }


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks with ties given their average rank (as Spearman needs)."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.arange(len(x), dtype=np.float64)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.zeros(len(counts))
    np.add.at(sums, inverse, ranks)
    return sums[inverse] / counts[inverse]


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denom = np.sqrt(np.sum(a * a) * np.sum(b * b))
    return float(np.sum(a * b) / denom) if denom else 0.0


def regression_metrics(
    preds: Sequence[float] | np.ndarray, labels: Sequence[float] | np.ndarray
) -> dict[str, float]:
    """Pearson and Spearman correlation and mean squared error."""
    p = np.asarray(preds, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if len(y) < 2:
        return {}
    return {
        "pearson": _pearson(p, y),
        "spearman": _pearson(_ranks(p), _ranks(y)),
        "mse": float(np.mean((p - y) ** 2)),
    }


def seqeval_metrics(
    preds: list[list[str]], labels: list[list[str]], per_type: bool = False
) -> dict[str, float]:
    """Entity-level precision, recall and F1 (CoNLL rules) and token accuracy."""
    from seqeval.metrics import accuracy_score, classification_report

    if not labels:
        return {}
    report = classification_report(labels, preds, output_dict=True, zero_division=0)
    micro = report.get("micro avg", {})
    out = {
        "precision": float(micro.get("precision", 0.0)),
        "recall": float(micro.get("recall", 0.0)),
        "f1": float(micro.get("f1-score", 0.0)),
        "acc": float(accuracy_score(labels, preds)),
    }
    if per_type:
        for name, row in report.items():
            if name.endswith(" avg"):
                continue
            out[f"{name}_f1"] = float(row["f1-score"])
    return out


def _normalise_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def _token_f1(pred: str, gold: str) -> float:
    p = _normalise_answer(pred).split()
    g = _normalise_answer(gold).split()
    if not p or not g:
        return float(p == g)
    common = collections.Counter(p) & collections.Counter(g)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(p)
    recall = same / len(g)
    return 2 * precision * recall / (precision + recall)


def squad_metrics(predictions: Sequence[str], golds: Sequence[Sequence[str]]) -> dict[str, float]:
    """Exact match and token F1 against the best of each question's gold answers (0-100).

    A question without gold answers (SQuAD v2) counts as right only when the
    prediction is empty.
    """
    if not golds:
        return {}
    em = f1 = 0.0
    for pred, answers in zip(predictions, golds, strict=True):
        refs = list(answers) or [""]
        em += max(float(_normalise_answer(pred) == _normalise_answer(r)) for r in refs)
        f1 += max(_token_f1(pred, r) for r in refs)
    n = len(golds)
    return {"exact_match": 100.0 * em / n, "f1": 100.0 * f1 / n}


def rouge(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Mean ROUGE-1, ROUGE-2 and ROUGE-L F-measures (0-100), stemmed as in the HF examples."""
    from rouge_score import rouge_scorer

    if not references:
        return {}
    kinds = ("rouge1", "rouge2", "rougeL")
    scorer = rouge_scorer.RougeScorer(list(kinds), use_stemmer=True)
    totals = dict.fromkeys(kinds, 0.0)
    for pred, ref in zip(predictions, references, strict=True):
        scores = scorer.score(ref, pred)
        for k in kinds:
            totals[k] += scores[k].fmeasure
    return {k: 100.0 * v / len(references) for k, v in totals.items()}


def bleu(predictions: Sequence[str], references: Sequence[str]) -> dict[str, Any]:
    """Corpus sacreBLEU and chrF (0-100)."""
    import sacrebleu

    if not references:
        return {}
    preds = list(predictions)
    refs = [list(references)]
    return {
        "bleu": float(sacrebleu.corpus_bleu(preds, refs).score),
        "chrf": float(sacrebleu.corpus_chrf(preds, refs).score),
    }
