"""Packing leaks nothing: each example's logits in a packed row equal its logits alone."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from ltx_llm.packing import ChatCollator, PackedCollator, pack, padding_fraction
from ltx_llm.rendering import IGNORE


def test_first_fit_decreasing_respects_the_row_length() -> None:
    lengths = [5, 9, 3, 7, 2, 8, 1]
    rows = pack(lengths, 10)
    assert sorted(i for r in rows for i in r) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in r) <= 10 for r in rows)
    assert len(rows) == 4  # 35 tokens: the fewest rows of 10 that hold them
    assert padding_fraction([10, 10], 2) == 0.0
    assert padding_fraction([10, 5], 2) == pytest.approx(0.25)


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_packed_logits_equal_unpacked(tiny_llama: Any, attention: str) -> None:
    model = tiny_llama
    model.config._attn_implementation = attention
    g = torch.Generator().manual_seed(1)
    examples = [torch.randint(5, 1000, (n,), generator=g).tolist() for n in (7, 12, 5, 9)]
    rows = pack([len(e) for e in examples], 24)
    assert any(len(r) > 1 for r in rows)
    features = [
        {
            "input_ids": [t for i in r for t in examples[i]],
            "labels": [t for i in r for t in examples[i]],
            "lengths": [len(examples[i]) for i in r],
        }
        for r in rows
    ]
    batch = PackedCollator(pad_token_id=0)(features)
    assert "attention_mask" not in batch
    with torch.no_grad():
        # As the task calls it: no KV cache (transformers finds packed rows only without one).
        packed = model(
            input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False
        ).logits
        for b, r in enumerate(rows):
            at = 0
            for i in r:
                n = len(examples[i])
                alone = model(input_ids=torch.tensor([examples[i]])).logits[0]
                torch.testing.assert_close(packed[b, at : at + n], alone, atol=1e-5, rtol=1e-4)
                at += n


def test_unpacked_collator_pads_labels_with_ignore() -> None:
    batch = ChatCollator(pad_token_id=0)(
        [
            {"input_ids": [5, 6, 7], "labels": [IGNORE, 6, 7]},
            {"input_ids": [8], "labels": [8]},
        ]
    )
    assert batch["labels"].tolist() == [[IGNORE, 6, 7], [8, IGNORE, IGNORE]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
