"""A record source owns its format: another author's dataset for ``text-classification``
whose files are nested JSON lines (``{"review": {"body": ..., "stars": 4}}``) trains on
them, and ``ltx predict --input`` reads the same file with the same reader (its
``predict_records``), the stars optional: one result per line. The source's rows, and
the default file source's, are read from the config alone, with no tokenizer."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ltx_core.errors import LtxError

PLUGIN = '''\
"""Reviews as nested JSON lines, {"review": {"body": ..., "stars": 1-5}}, for
text-classification: one reader serves training and ltx predict."""

import json

from pydantic import Field

from ltx_core.readers import expand_paths, stdin_lines
from ltx_core.registry.hookspecs import hookimpl
from ltx_nlp_hf.config import TextClassificationSourceConfig
from ltx_nlp_hf.data import TextClassificationDataModule

LTX_PLUGIN_API = 1


class NestedReviewsConfig(TextClassificationSourceConfig):
    train_file: str = Field("reviews.jsonl", description="Nested JSON lines to train on.")
    test_file: str | None = Field(None, description="Nested JSON lines to test on.")


def flat(line: str):
    """One line's record: its text, and a label where the line has stars."""
    review = json.loads(line)["review"]
    row = {"text": review["body"]}
    if "stars" in review:
        row["label"] = "positive" if review["stars"] >= 4 else "negative"
    return row


class NestedReviews(TextClassificationDataModule):
    config: NestedReviewsConfig

    @classmethod
    def predict_records(cls, source, config):
        if source == "-":
            yield from (flat(line) for line in stdin_lines() if line.strip())
            return
        for path in expand_paths(source):
            with path.open(encoding="utf-8") as f:
                yield from (flat(line) for line in f if line.strip())

    def read_records(self, split):
        path = {"train": self.config.train_file, "test": self.config.test_file}.get(split)
        return None if path is None else list(self.predict_records(path, self.config))


@hookimpl
def register_datasets(register):
    register("nested-reviews", target="ltx_nested_reviews:NestedReviews",
             config="ltx_nested_reviews:NestedReviewsConfig",
             summary="Nested JSON lines of reviews.", fits=["text-classification"])
'''

GOOD = ["a warm and funny film", "the cast is superb", "i loved every minute"]
BAD = ["a dull and lifeless mess", "the plot makes no sense", "i was bored throughout"]


def write_reviews(path: Path, n: int = 40, *, stars: bool = True) -> list[str]:
    """``n`` nested review lines (with or without their stars); returns the bodies."""
    bodies, lines = [], []
    for i in range(n):
        good = i % 2 == 0
        body = f"{(GOOD if good else BAD)[i // 2 % 3]} ({i})"
        review: dict[str, Any] = {"body": body}
        if stars:
            review["stars"] = 5 if good else 1
        bodies.append(body)
        lines.append(json.dumps({"review": review, "id": i}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return bodies


@pytest.fixture
def nested(tmp_path: Path) -> Iterator[ModuleType]:
    """The plugin's module, importable (not yet registered)."""
    folder = tmp_path / "nested-src"
    folder.mkdir()
    (folder / "ltx_nested_reviews.py").write_text(PLUGIN, encoding="utf-8")
    sys.path.insert(0, str(folder))
    try:
        import ltx_nested_reviews

        yield ltx_nested_reviews
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("ltx_nested_reviews", None)


@pytest.fixture
def nested_plugin(nested: ModuleType, ltx_plugin: Callable[..., None]) -> ModuleType:
    """The plugin registered in this process."""
    ltx_plugin("nested-reviews", nested, "ltx-nested-reviews", "1.0")
    return nested


def test_a_record_source_reads_its_rows_without_a_tokenizer(
    nested: ModuleType, tmp_path: Path
) -> None:
    write_reviews(tmp_path / "train.jsonl", 4)
    write_reviews(tmp_path / "new.jsonl", 2, stars=False)
    config = nested.NestedReviewsConfig(train_file=str(tmp_path / "train.jsonl"))
    source = nested.NestedReviews(config)  # no tokenizer: reading rows needs none
    assert source.read_records("train") == [
        {"text": "a warm and funny film (0)", "label": "positive"},
        {"text": "a dull and lifeless mess (1)", "label": "negative"},
        {"text": "the cast is superb (2)", "label": "positive"},
        {"text": "the plot makes no sense (3)", "label": "negative"},
    ]
    assert source.read_records("validation") is None
    # Prediction's reader is the same one, over any file, the label optional.
    rows = list(nested.NestedReviews.predict_records(str(tmp_path / "new.jsonl"), config))
    assert rows == [{"text": "a warm and funny film (0)"}, {"text": "a dull and lifeless mess (1)"}]
    # Tokenising is where the tokenizer is needed: one sentence, not a traceback.
    with pytest.raises(LtxError, match="needs a tokenizer"):
        source.setup("fit")


def test_the_file_source_reads_rows_and_prediction_files_without_a_tokenizer(
    tmp_path: Path,
) -> None:
    from ltx_nlp_hf.config.data import TextClassificationDataConfig
    from ltx_nlp_hf.data import TextClassificationDataModule

    train = tmp_path / "train.csv"
    train.write_text("sentence,label\na fine film,1\na dull film,0\n", encoding="utf-8")
    config = TextClassificationDataConfig(train_file=str(train), text_column="sentence")
    source = TextClassificationDataModule(config)
    assert source.read_records("train") == [
        {"sentence": "a fine film", "label": "1"},
        {"sentence": "a dull film", "label": "0"},
    ]
    assert source.read_records("test") is None
    # ltx predict reads files in the training columns; a bare string is the text column.
    inputs = tmp_path / "in.jsonl"
    inputs.write_text('"a gripping film"\n{"sentence": "a flat film"}\n', encoding="utf-8")
    rows = list(TextClassificationDataModule.predict_records(str(inputs), config))
    assert rows == [{"sentence": "a gripping film"}, {"sentence": "a flat film"}]


@pytest.mark.slow
def test_ltx_predict_reads_the_file_the_dataset_trained_on(
    nested_plugin: ModuleType,
    tmp_path: Path,
    ltx_train: Callable[..., Any],
    ltx_cli: Callable[..., Any],
) -> None:
    data = tmp_path / "reviews.jsonl"
    bodies = write_reviews(data)
    run = ltx_train(
        "text-classification", "--dataset", "nested-reviews", "--backbone", "tiny-bert",
        "--max-steps", "2", f"dataset.train_file={data}", "dataset.batch_size=8",
        "dataset.max_length=16", "task.export_hf=false", "trainer.num_sanity_val_steps=0",
    )  # fmt: skip

    def predict(*args: str, input: str | None = None) -> list[dict[str, Any]]:
        result = ltx_cli("predict", "--ckpt", str(run.checkpoint), "--accelerator", "cpu",
                         "--no-progress", *args, input=input)  # fmt: skip
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]

    # The very file it trained on: one result per line, in order, the gold label kept.
    trained_on = predict("--input", str(data), "--keep-columns", "text", "--batch-size", "8")
    assert [r["text"] for r in trained_on] == bodies
    assert [r["input"] for r in trained_on] == bodies
    assert {r["label"] for r in trained_on} <= {"negative", "positive"}

    # New reviews have no stars yet: the label column is optional.
    unlabelled = tmp_path / "new.jsonl"
    new_bodies = write_reviews(unlabelled, 5, stars=False)
    assert [r["input"] for r in predict("--input", str(unlabelled))] == new_bodies
    # Standard input goes through the same reader.
    lines = unlabelled.read_text(encoding="utf-8")
    assert [r["input"] for r in predict("--input", "-", input=lines)] == new_bodies
