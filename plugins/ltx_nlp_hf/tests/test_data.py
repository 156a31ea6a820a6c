"""Datasets on the real shared data: labels and their names, pairs, word-tag alignment,
QA windows mapped back to answer text, text blocks, choices, seq2seq targets, dynamic
padding, the seeded validation split and the tokenisation cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from ltx_nlp_hf.data import (
    LanguageModelingDataModule,
    MultipleChoiceDataModule,
    QuestionAnsweringDataModule,
    SummarizationDataModule,
    TextClassificationDataModule,
    TokenClassificationDataModule,
    TranslationDataModule,
)
from ltx_nlp_hf.data.cache import TokenisedCache
from ltx_nlp_hf.data.language_modeling import group_blocks
from ltx_nlp_hf.handoff import TextClassificationData


def first_batch(dm: Any, split: str = "train", size: int = 4) -> dict[str, torch.Tensor]:
    rows = [dm.splits[split][i] for i in range(min(size, len(dm.splits[split])))]
    return dm.collate_fn(split)(rows)


def test_sst2_int_labels_get_their_names(shared: Path, make_dm: Any) -> None:
    dm = make_dm(
        TextClassificationDataModule, train_file=str(shared / "sst2" / "dev.tsv"),
        test_file=str(shared / "sst2" / "test.tsv"), text_column="sentence",
        label_names=["negative", "positive"], limit_train_samples=200, limit_val_samples=20,
    )  # fmt: skip
    info = dm.handoff()
    assert isinstance(info, TextClassificationData)
    assert info.num_labels == 2
    assert info.id2label == {0: "negative", 1: "positive"}
    assert info.problem_type == "single_label_classification"
    # No validation file: 10% of train is split off with the seed, then the limits apply.
    assert len(dm.splits["train"]) == 200 and len(dm.splits["validation"]) == 20
    assert len(dm.splits["test"]) == 872
    batch = first_batch(dm, "test")
    assert batch["labels"].dtype == torch.long


def test_validation_split_is_fixed_by_the_seed(shared: Path, make_dm: Any) -> None:
    kwargs = {
        "train_file": str(shared / "sst2" / "dev.tsv"),
        "text_column": "sentence",
        "limit_train_samples": 50,
        "cache": False,
    }
    a = make_dm(TextClassificationDataModule, seed=1, **kwargs)
    b = make_dm(TextClassificationDataModule, seed=1, **kwargs)
    c = make_dm(TextClassificationDataModule, seed=2, **kwargs)
    ids = [dm.splits["validation"]["input_ids"] for dm in (a, b, c)]
    assert ids[0] == ids[1] and ids[0] != ids[2]


def test_mrpc_pairs_with_string_labels_keep_names(hf: Path, make_dm: Any) -> None:
    dm = make_dm(
        TextClassificationDataModule, train_file=str(hf / "MRPC" / "dev.csv"),
        validation_file=str(hf / "MRPC" / "dev.csv"), text_column="sentence1",
        text_pair_column="sentence2",
    )  # fmt: skip
    info = dm.handoff()
    assert info.id2label == {0: "equivalent", 1: "not_equivalent"}
    assert info.text_pair is True
    row = dm.splits["train"][0]
    assert set(row["token_type_ids"]) == {0, 1}  # both segments are there


def test_multi_label_and_regression(tmp_path: Path, make_dm: Any) -> None:
    multi = tmp_path / "multi.jsonl"
    multi.write_text("\n".join(json.dumps(r) for r in [
        {"text": "sun and rain", "label": ["sunny", "rainy"]},
        {"text": "only sun", "label": ["sunny"]},
        {"text": "snow", "label": ["snowy"]},
    ]))  # fmt: skip
    dm = make_dm(TextClassificationDataModule, train_file=str(multi), validation_file=str(multi))
    info = dm.handoff()
    assert info.problem_type == "multi_label_classification"
    assert info.label_names == ["rainy", "snowy", "sunny"]
    assert first_batch(dm)["labels"].tolist()[0] == [1.0, 0.0, 1.0]

    reg = tmp_path / "reg.csv"
    reg.write_text("text,label\na,0.5\nb,1.25\nc,3.0\n")
    dm = make_dm(TextClassificationDataModule, train_file=str(reg), validation_file=str(reg))
    info = dm.handoff()
    assert info.problem_type == "regression" and info.num_labels == 1
    assert first_batch(dm)["labels"].dtype == torch.float32


def test_dynamic_padding_pads_to_the_longest_in_the_batch(shared: Path, make_dm: Any) -> None:
    common = {
        "train_file": str(shared / "sst2" / "test.tsv"),
        "text_column": "sentence",
        "limit_train_samples": 64,
        "max_length": 128,
    }
    dm = make_dm(TextClassificationDataModule, **common)
    batch = first_batch(dm, size=8)
    longest = max(len(dm.splits["train"][i]["input_ids"]) for i in range(8))
    assert batch["input_ids"].shape[1] == longest < 128
    fixed = make_dm(TextClassificationDataModule, padding="max_length", **common)
    assert first_batch(fixed)["input_ids"].shape[1] == 128


def test_conll_tags_go_on_first_sub_tokens(hf: Path, make_dm: Any, tokenizer: Any) -> None:
    dm = make_dm(
        TokenClassificationDataModule, train_file=str(hf / "conll" / "sample.json"),
        validation_file=str(hf / "conll" / "sample.json"), tokens_column="words",
        tags_column="ner",
    )  # fmt: skip
    info = dm.handoff()
    assert info.label_names[0] == "O"
    assert {"B-ORG", "B-PER", "I-PER", "B-LOC"} <= set(info.label_names)
    raw = [json.loads(line) for line in (hf / "conll" / "sample.json").read_text().splitlines()]
    row = dm.splits["validation"][0]
    words = raw[0]["words"]
    enc = tokenizer(words, is_split_into_words=True)
    word_ids = enc.word_ids()
    # One labelled position per word, at its first sub-token, carrying that word's tag.
    labelled = [i for i, y in enumerate(row["labels"]) if y != -100]
    assert len(labelled) == len(words)
    for pos in labelled:
        assert info.label_names[row["labels"][pos]] == raw[0]["ner"][word_ids[pos]]
    assert first_batch(dm)["labels"].shape == first_batch(dm)["input_ids"].shape


def test_squad_windows_map_answers_back_to_text(hf: Path, make_dm: Any, tokenizer: Any) -> None:
    dm = make_dm(
        QuestionAnsweringDataModule, train_file=str(hf / "SQUAD" / "sample.json"),
        validation_file=str(hf / "SQUAD" / "sample.json"), max_length=96, doc_stride=32,
    )  # fmt: skip
    train, examples = dm.splits["train"], dm.extras["validation_examples"]
    assert len(train) > len(examples) == 14  # long contexts became several windows
    found = 0
    for row in train:
        s, e = row["start_positions"], row["end_positions"]
        if s == 0:  # answer not inside this window: points at [CLS]
            continue
        text = tokenizer.decode(row["input_ids"][s : e + 1]).lower()
        golds = {a.lower() for ex in examples for a in ex["answers"]["text"]}
        assert any(text.replace(" ", "") == g.replace(" ", "") for g in golds), text
        found += 1
    # The sample is SQuAD v2: 8 questions have answers, 6 have none (and point at [CLS]).
    assert found >= 8
    assert dm.handoff().version_2_with_negative is True
    val = dm.splits["validation"]
    assert val["feature_index"] == list(range(len(val)))
    assert set(val["example_index"]) == set(range(14))
    batch = first_batch(dm, "validation")
    assert "offset_mapping" not in batch and batch["feature_index"].tolist() == [0, 1, 2, 3]


def test_text_is_grouped_into_blocks(hf: Path, make_dm: Any) -> None:
    dm = make_dm(
        LanguageModelingDataModule, train_file=str(hf / "wiki_text" / "wiki_00"), max_length=64
    )
    blocks = dm.splits["train"]["input_ids"]
    assert len(blocks) > 50 and all(len(b) == 64 for b in blocks)
    assert dm.handoff().special_token_ids
    assert group_blocks({"input_ids": [[1, 2, 3], [4, 5]]}, 2) == {"input_ids": [[1, 2], [3, 4]]}
    assert group_blocks({"input_ids": [[1, 2]]}, 8) == {"input_ids": [[1, 2]]}


def test_swag_choices(hf: Path, make_dm: Any) -> None:
    dm = make_dm(
        MultipleChoiceDataModule,
        train_file=str(hf / "swag" / "sample.json"),
        validation_file=str(hf / "swag" / "sample.json"),
    )
    assert dm.handoff().num_choices == 4
    batch = first_batch(dm)
    assert batch["input_ids"].shape[:2] == (4, 4) and batch["labels"].shape == (4,)


def test_race_schema_with_letter_answers(tmp_path: Path, make_dm: Any) -> None:
    path = tmp_path / "race.jsonl"
    path.write_text("\n".join(json.dumps({
        "article": f"Article {i} about cats.", "question": "What is it about?",
        "options": ["cats", "dogs", "fish"], "answer": "ABC"[i % 3],
    }) for i in range(6)))  # fmt: skip
    dm = make_dm(
        MultipleChoiceDataModule,
        train_file=str(path),
        validation_file=str(path),
        context_column="article",
        question_column="question",
        options_column="options",
        label_column="answer",
    )
    assert dm.handoff().num_choices == 3
    assert first_batch(dm)["labels"].tolist() == [0, 1, 2, 0]


def test_summaries_and_translations_become_padded_targets(hf: Path, make_dm: Any) -> None:
    dm = make_dm(
        SummarizationDataModule,
        train_file=str(hf / "xsum" / "sample.json"),
        file_format="jsonl",
        max_target_length=64,
    )
    batch = first_batch(dm)
    assert batch["labels"].shape[1] <= 64 and (batch["labels"] == -100).any()
    dm = make_dm(
        TranslationDataModule,
        train_file=str(hf / "wmt16" / "sample.json"),
        file_format="jsonl",
        source_prefix="translate English to Romanian: ",
    )
    assert dm.handoff().source_prefix == "translate English to Romanian: "
    assert first_batch(dm)["labels"].shape[0] == 4


def test_second_identical_setup_skips_tokenisation(
    shared: Path, make_dm: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A cache of its own: the first setup must be a miss whatever ran before in the session.
    monkeypatch.setenv("LTX_CACHE_DIR", str(tmp_path / "cache"))
    config = {
        "train_file": str(shared / "sst2" / "dev.tsv"),
        "text_column": "sentence",
        "test_file": str(shared / "sst2" / "test.tsv"),
        "limit_train_samples": 300,
    }
    first = make_dm(TextClassificationDataModule, **config)
    assert first.cache_hit is False and Path(first.cache_path).is_dir()

    def no_tokenising(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("tokenised again although the cache holds this data")

    with monkeypatch.context() as patch:
        patch.setattr(TextClassificationDataModule, "tokenise", no_tokenising)
        second = make_dm(TextClassificationDataModule, **config)
    assert second.cache_hit is True and second.cache_path == first.cache_path
    assert second.handoff() == first.handoff()
    for split in ("train", "validation", "test"):
        assert second.splits[split]["input_ids"] == first.splits[split]["input_ids"]

    # Another setting, another seed or other file contents: another entry.
    other = make_dm(TextClassificationDataModule, **{**config, "max_length": 32})
    assert other.cache_hit is False and other.cache_path != first.cache_path
    reseeded = make_dm(TextClassificationDataModule, seed=7, **config)
    assert reseeded.cache_path != first.cache_path


def test_cache_key_follows_file_contents(
    tmp_path: Path, make_dm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LTX_CACHE_DIR", str(tmp_path / "cache"))  # misses are asserted
    path = tmp_path / "train.csv"
    path.write_text("text,label\na,x\nb,y\nc,x\n")
    a = make_dm(TextClassificationDataModule, train_file=str(path))
    path.write_text("text,label\na,x\nb,y\nc,y\n")
    b = make_dm(TextClassificationDataModule, train_file=str(path))
    assert not b.cache_hit and a.cache_path != b.cache_path
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes())
    c = make_dm(TextClassificationDataModule, train_file=str(copy))
    assert c.cache_hit and c.cache_path == b.cache_path  # same contents, another path


def test_damaged_cache_entry_is_rebuilt(tmp_path: Path) -> None:
    cache = TokenisedCache(tmp_path, "k")
    cache.path.mkdir(parents=True)
    (cache.path / "meta.json").write_text('{"parts": ["train"], "meta": {}}')
    assert cache.load() is None  # the split folder is missing: not fatal


def test_group_by_length_batches_similar_lengths(shared: Path, make_dm: Any) -> None:
    from ltx_nlp_hf.data.sampling import LengthGroupedSampler

    common = {
        "train_file": str(shared / "sst2" / "dev.tsv"),
        "text_column": "sentence",
        "limit_train_samples": 640,
        "batch_size": 16,
    }
    plain = make_dm(TextClassificationDataModule, **common)
    grouped = make_dm(TextClassificationDataModule, group_by_length=True, **common)
    assert grouped.cache_path == plain.cache_path  # a loader setting, not a cache key

    def mean_width(dm: Any) -> float:
        widths = [b["input_ids"].shape[1] for b in dm.train_dataloader()]
        return sum(widths) / len(widths)

    assert mean_width(grouped) < 0.8 * mean_width(plain)
    sampler = grouped.train_dataloader().sampler
    # The core's loader may wrap a training sampler (to resume mid-epoch); ours is inside.
    assert isinstance(getattr(sampler, "inner", sampler), LengthGroupedSampler)
    first = list(sampler)
    sampler.set_epoch(1)
    assert sorted(first) == list(range(640)) and list(sampler) != first
