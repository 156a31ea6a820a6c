"""Metrics against values worked out by hand (and the QA span search on a known case)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from ltx_nlp_hf import metrics
from ltx_nlp_hf.qa import best_answers, train_positions
from ltx_nlp_hf.tasks.masked_language_modeling import mask_tokens


def test_classification_accuracy_f1_mcc() -> None:
    preds, labels = [1, 1, 0, 0, 1], [1, 0, 0, 1, 1]
    out = metrics.classification_metrics(preds, labels, 2)
    # tp=2, fp=1, fn=1 for class 1: F1 = 4/6; MCC = (2*1 - 1*1)/sqrt(3*2*2*3) = 1/6
    assert out["acc"] == pytest.approx(0.6)
    assert out["f1"] == pytest.approx(2 / 3)
    assert out["mcc"] == pytest.approx(1 / 6)
    macro = metrics.classification_metrics([0, 1, 2, 2], [0, 1, 2, 1], 3)
    assert macro["f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)


def test_regression_correlations() -> None:
    out = metrics.regression_metrics([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 100.0])
    assert out["spearman"] == pytest.approx(1.0)
    assert 0.7 < out["pearson"] < 1.0
    ties = metrics.regression_metrics([1.0, 1.0, 2.0], [1.0, 2.0, 3.0])
    assert ties["spearman"] == pytest.approx(math.sqrt(3) / 2)


def test_multilabel() -> None:
    out = metrics.multilabel_metrics(
        np.array([[0.9, 0.2], [0.8, 0.7]]), np.array([[1, 0], [1, 0]]), 0.5
    )
    assert out["acc"] == pytest.approx(0.5)
    assert out["f1"] == pytest.approx(0.8)  # tp=2, fp=1, fn=0


def test_seqeval_counts_entities_not_tokens() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["B-PER", "O", "O", "B-LOC"]]  # the PER entity is cut short: wrong
    out = metrics.seqeval_metrics(pred, gold, per_type=True)
    assert out["precision"] == pytest.approx(0.5) and out["recall"] == pytest.approx(0.5)
    assert out["acc"] == pytest.approx(0.75)
    assert out["LOC_f1"] == pytest.approx(1.0) and out["PER_f1"] == pytest.approx(0.0)


def test_squad_exact_match_and_f1() -> None:
    out = metrics.squad_metrics(["The Normans", "France", ""], [["Normans"], ["in France"], []])
    # 'The' is an article and dropped; 'France' vs 'in France' is F1 2/3; "" vs no answer: right.
    assert out["exact_match"] == pytest.approx(200 / 3)
    assert out["f1"] == pytest.approx(100 * (1 + 2 / 3 + 1) / 3)


def test_rouge_and_bleu_of_identical_text() -> None:
    text = ["the cat sat on the mat", "a quick brown fox jumps"]
    assert metrics.rouge(text, text)["rougeL"] == pytest.approx(100.0)
    assert metrics.bleu(text, text)["bleu"] == pytest.approx(100.0)
    assert metrics.rouge(["dog"], ["cat"])["rouge1"] == 0.0


def test_qa_span_search() -> None:
    context = "Normandy is a region in France."
    offsets = [None, None, (0, 8), (9, 11), (12, 13), (14, 20), (21, 23), (24, 30), (30, 31), None]
    start = np.full(10, -5.0)
    end = np.full(10, -5.0)
    start[7], end[7] = 3.0, 3.0  # "France"
    out = best_answers([context], [(0, offsets, 0)], [start], [end])
    assert out[0]["text"] == "France"
    start[0], end[0] = 10.0, 10.0  # [CLS] wins: SQuAD v2 says no answer
    assert (
        best_answers([context], [(0, offsets, 0)], [start], [end], with_negative=True)[0]["text"]
        == ""
    )
    assert train_positions(offsets, 0, 24, "France") == (7, 7)
    assert train_positions(offsets, 0, 0, "Normandy is") == (2, 3)
    assert train_positions(offsets[:5] + [None] * 5, 0, 24, "France") == (0, 0)


def test_masking_never_touches_special_or_padding_tokens() -> None:
    ids = torch.tensor([[101, 5, 6, 7, 8, 102, 0, 0]] * 64)
    mask = (ids != 0).long()
    gen = torch.Generator().manual_seed(0)
    inputs, labels = mask_tokens(
        ids,
        mask,
        special_ids=[0, 101, 102, 103],
        mask_id=103,
        vocab_size=200,
        probability=0.5,
        generator=gen,
    )
    chosen = labels != -100
    assert not chosen[:, [0, 5, 6, 7]].any()
    assert chosen.float().mean() > 0.2
    assert torch.equal(labels[chosen], ids[chosen])
    assert (inputs[chosen] == 103).float().mean() > 0.6  # most chosen tokens become [MASK]
    again = mask_tokens(
        ids,
        mask,
        special_ids=[0, 101, 102, 103],
        mask_id=103,
        vocab_size=200,
        probability=0.5,
        generator=torch.Generator().manual_seed(0),
    )
    assert torch.equal(again[1], labels)  # a seeded generator repeats its masks
