"""User mistakes in data and config: each is an LtxError of one sentence saying what to fix
(the CLI turns it into exit code 2 without a traceback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ltx_nlp_hf.data import (
    MultipleChoiceDataModule,
    QuestionAnsweringDataModule,
    TextClassificationDataModule,
    TokenClassificationDataModule,
    TranslationDataModule,
)

from ltx_core.config.resolve import resolve_config
from ltx_core.errors import LtxError


def one_sentence(exc: pytest.ExceptionInfo[LtxError]) -> str:
    text = str(exc.value)
    assert "\n" not in text and text.endswith("."), text
    assert "Traceback" not in text
    return text


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> str:
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return str(path)


def test_missing_data_file(make_dm: Any) -> None:
    with pytest.raises(LtxError, match=r"training file '.*missing.tsv' does not exist") as exc:
        make_dm(TextClassificationDataModule, train_file="missing.tsv")
    one_sentence(exc)


def test_missing_column_lists_the_columns_there_are(shared: Path, make_dm: Any) -> None:
    with pytest.raises(LtxError) as exc:
        make_dm(
            TextClassificationDataModule,
            train_file=str(shared / "sst2" / "test.tsv"),
            text_column="text",
        )
    text = one_sentence(exc)
    assert "has no column 'text' (dataset.text_column)" in text
    assert "its columns are: sentence, label" in text


def test_label_in_validation_unseen_in_training(tmp_path: Path, make_dm: Any) -> None:
    train = tmp_path / "train.csv"
    train.write_text("text,label\ngood,pos\nbad,neg\n")
    val = tmp_path / "val.csv"
    val.write_text("text,label\nmeh,neutral\n")
    with pytest.raises(LtxError) as exc:
        make_dm(TextClassificationDataModule, train_file=str(train), validation_file=str(val))
    text = one_sentence(exc)
    assert "validation data" in text and "'neutral'" in text
    assert "training labels: neg, pos" in text


def test_integer_label_out_of_range_in_test(tmp_path: Path, make_dm: Any) -> None:
    train = tmp_path / "train.tsv"
    train.write_text("text\tlabel\na\t0\nb\t1\n")
    test = tmp_path / "test.tsv"
    test.write_text("text\tlabel\nc\t2\n")
    with pytest.raises(LtxError, match="test data .* has the label '2'") as exc:
        make_dm(
            TextClassificationDataModule,
            train_file=str(train),
            validation_file=str(train),
            test_file=str(test),
        )
    one_sentence(exc)


def test_empty_and_non_utf8_files(tmp_path: Path, make_dm: Any) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(LtxError, match="is empty") as exc:
        make_dm(TextClassificationDataModule, train_file=str(empty))
    one_sentence(exc)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,label\ncaf\xe9,1\nthé,0\n".encode("latin-1"))
    with pytest.raises(LtxError, match="not UTF-8 text .*line 2") as exc:
        make_dm(TextClassificationDataModule, train_file=str(latin))
    one_sentence(exc)


def test_one_class_only(tmp_path: Path, make_dm: Any) -> None:
    path = tmp_path / "one.csv"
    path.write_text("text,label\na,yes\nb,yes\nc,yes\n")
    with pytest.raises(LtxError, match="only one label") as exc:
        make_dm(TextClassificationDataModule, train_file=str(path))
    one_sentence(exc)


def test_words_and_tags_of_different_lengths(tmp_path: Path, make_dm: Any) -> None:
    path = write_jsonl(tmp_path / "ner.jsonl", [
        {"tokens": ["EU", "rejects"], "ner_tags": ["B-ORG", "O"]},
        {"tokens": ["Peter", "Blackburn"], "ner_tags": ["B-PER"]},
    ])  # fmt: skip
    with pytest.raises(LtxError, match="Example 2 .* has 2 words but 1 tags") as exc:
        make_dm(TokenClassificationDataModule, train_file=path, validation_file=path)
    one_sentence(exc)


def test_multiple_choice_label_that_is_not_a_choice(tmp_path: Path, make_dm: Any) -> None:
    rows = [
        {
            "sent1": "a",
            "sent2": "b",
            "ending0": "c",
            "ending1": "d",
            "ending2": "e",
            "ending3": "f",
            "label": label,
        }
        for label in (0, 7)
    ]
    path = write_jsonl(tmp_path / "swag.jsonl", rows)
    with pytest.raises(LtxError, match="label '7', which is not a choice") as exc:
        make_dm(MultipleChoiceDataModule, train_file=path, validation_file=path)
    one_sentence(exc)


def test_unanswerable_question_without_squad_v2(hf: Path, make_dm: Any) -> None:
    with pytest.raises(LtxError, match="version_2_with_negative=true") as exc:
        make_dm(
            QuestionAnsweringDataModule,
            train_file=str(hf / "SQUAD" / "sample.json"),
            version_2_with_negative=False,
        )
    one_sentence(exc)


def test_translation_without_the_language(hf: Path, make_dm: Any) -> None:
    with pytest.raises(LtxError, match="no 'en' and 'de' texts .*it has: en, ro") as exc:
        make_dm(
            TranslationDataModule,
            train_file=str(hf / "wmt16" / "sample.json"),
            file_format="jsonl",
            target_lang="de",
        )
    one_sentence(exc)


def test_no_data_at_all(make_dm: Any) -> None:
    with pytest.raises(LtxError, match="set dataset.train_file") as exc:
        make_dm(TextClassificationDataModule)
    one_sentence(exc)


def test_hub_dataset_offline_says_how_to_use_local_files(make_dm: Any) -> None:
    with pytest.raises(LtxError, match="hub dataset 'nyu-mll/glue \\(sst2\\)'") as exc:
        make_dm(TextClassificationDataModule, hub_path="nyu-mll/glue", hub_name="sst2")
    assert "dataset.train_file" in one_sentence(exc)


def test_bad_config_values_name_the_key() -> None:
    with pytest.raises(LtxError, match="dataset.doc_stride.*smaller than max_length"):
        resolve_config(
            "question-answering",
            dataset="squad-sample",
            backbone="tiny-bert",
            overrides=["dataset.doc_stride=500"],
        )
    with pytest.raises(LtxError, match="Unknown key 'dataset.text_colum'.*text_column"):
        resolve_config("text-classification", overrides=["dataset.text_colum=x"])
    with pytest.raises(LtxError, match="does not fit task 'summarization'"):
        resolve_config("summarization", backbone="minilm")
