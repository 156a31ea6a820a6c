"""A new user's own files, through the ``ltx`` CLI (issue #9, items 1 and 2).

Naming your own files means your data only (no packaged validation file or label names
mixed in), files shaped as Hugging Face ships them train without naming their columns,
CoNLL ``.txt`` files are recognised by their content, and given label names are the label
set. Tiny files written here, the random ``tiny-bert``, two optimizer steps on the CPU.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from ltx_nlp_hf.catalogue import DATASETS, packaged_preset
from ltx_nlp_hf.catalogue import PACKAGED as PACKAGED_NAMES

from ltx_core.cli.testing import QUIET

SHORT = [
    "--backbone", "tiny-bert", "--accelerator", "cpu", "--max-steps", "2",
    "trainer.limit_val_batches=2", "trainer.limit_test_batches=2", *QUIET,
    "trainer.num_sanity_val_steps=0", "dataset.batch_size=4",
]  # fmt: skip
Cli = Callable[..., Any]

NEWS = ["world", "sports", "business", "sci"]
NEWS_TEXT = {
    "world": "leaders met in geneva to talk about the border",
    "sports": "the striker scored twice in the cup final",
    "business": "shares fell after the bank cut its forecast",
    "sci": "the probe sent back pictures of the comet",
}
# CoNLL-2003 as it ships: -DOCSTART- lines, 'token POS CHUNK TAG', blank lines between.
CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O
. . O O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
said VBD B-VP O
. . O O
"""
CONLL_DEV = """-DOCSTART- -X- -X- O

Paris NNP B-NP B-LOC
said VBD B-VP O
. . O O
"""
CONLL_TAGS = ["O", "B-ORG", "B-MISC", "B-PER", "I-PER", "B-LOC"]


def news_csv(path: Path, rows: int = 24, header: str = "text,label") -> Path:
    lines = [header]
    for i in range(rows):
        label = NEWS[i % 4]
        lines.append(f"{NEWS_TEXT[label]} {i},{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def one_line_error(result: object) -> str:
    code, output = result.exit_code, result.output  # type: ignore[attr-defined]
    assert code == 2, output
    assert "Traceback" not in output
    return " ".join(output.split())


def _task_of(family_fits: tuple[str, ...]) -> str:
    return family_fits[0]


PACKAGED = [d for d in DATASETS if d.name in PACKAGED_NAMES]


@pytest.mark.parametrize("sample", PACKAGED, ids=[d.name for d in PACKAGED])
def test_own_train_file_drops_every_packaged_file_and_schema(
    ltx_cli: Cli, tmp_path: Path, sample: object
) -> None:
    """`ltx config` shows only the user's file: no packaged validation/test file, columns
    or label names (the validation split is then carved from the user's training file)."""
    name, fits = sample.name, sample.fits
    mine = tmp_path / "mine.jsonl"
    result = ltx_cli("config", _task_of(fits), "--dataset", name, f"dataset.train_file={mine}")
    assert result.exit_code == 0, result.output
    dataset = yaml.safe_load(result.stdout)["dataset"]
    assert dataset["train_file"] == str(mine)
    assert dataset["validation_file"] is None and dataset["test_file"] is None
    preset = packaged_preset(name) or {}
    for key, value in preset.items():
        if key.endswith(("_column", "_columns", "label_names")) or key == "file_format":
            assert dataset[key] != value, (key, value)


def test_sample_without_own_files_keeps_its_packaged_set(ltx_cli: Cli) -> None:
    result = ltx_cli("config", "text-classification")
    assert result.exit_code == 0, result.output
    dataset = yaml.safe_load(result.stdout)["dataset"]
    assert dataset["name"] == "nlp-hf:sst2-sample"
    assert dataset["validation_file"].endswith("dev.tsv")
    assert dataset["label_names"] == ["negative", "positive"]
    assert dataset["text_column"] == "sentence"


def test_four_class_news_file_trains_on_its_own_data(ltx_cli: Cli, tmp_path: Path) -> None:
    """The default dataset with a user's `text,label` files: validated on a seeded tenth of
    the user's training file, the four label names from the file, and `ltx test` after."""
    train, test = news_csv(tmp_path / "mine.csv"), news_csv(tmp_path / "mine_test.csv", 8)
    run = tmp_path / "run"
    result = ltx_cli(
        "train", "text-classification", f"dataset.train_file={train}",
        f"dataset.test_file={test}", "--output-dir", str(run), *SHORT,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    saved = yaml.safe_load((run / "config.yaml").read_text())["dataset"]
    assert saved["validation_file"] is None and saved["label_names"] is None
    exported = json.loads((run / "artifacts" / "hf_model" / "config.json").read_text())
    assert sorted(exported["id2label"].values()) == sorted(NEWS)
    tested = ltx_cli("test", "--ckpt", str(run / "checkpoints" / "last.ckpt"))
    assert tested.exit_code == 0, tested.output


@pytest.mark.parametrize(
    ("header", "used"),
    [
        ("content,label", "text 'content'"),
        ("sentence1,sentence2,label", "text 'sentence1' paired with 'sentence2'"),
        ("review,labels", "text 'review'"),
    ],
)
def test_hugging_face_shaped_files_need_no_column_names(
    ltx_cli: Cli,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    header: str,
    used: str,
) -> None:
    train = tmp_path / "train.csv"
    rows = [header] + [
        ",".join([NEWS_TEXT[NEWS[i % 4]]] * (header.count(",")) + [NEWS[i % 4]]) for i in range(16)
    ]
    train.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="ltx_nlp_hf"):
        result = ltx_cli(
            "train", "text-classification", "--dataset", "text-classification-files",
            f"dataset.train_file={train}", "--output-dir", str(tmp_path / "run"), *SHORT,
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [r.getMessage() for r in caplog.records if "Using the columns" in r.getMessage()]
    assert len(lines) == 1 and used in lines[0], lines


def test_ambiguous_columns_name_the_options(ltx_cli: Cli, tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    train.write_text("title,body,source,label\na,b,c,world\nd,e,f,sports\n", encoding="utf-8")
    result = ltx_cli(
        "train", "text-classification", "--dataset", "text-classification-files",
        f"dataset.train_file={train}", *SHORT,
    )  # fmt: skip
    text = one_line_error(result)
    assert "title, body, source, label" in text
    assert "dataset.text_column" in text and "dataset.text_pair_column" in text


def test_hub_schema_on_other_files_points_to_the_files_dataset(
    ltx_cli: Cli, tmp_path: Path
) -> None:
    train = news_csv(tmp_path / "news.csv")
    result = ltx_cli(
        "train", "text-classification", "--dataset", "sst2", f"dataset.train_file={train}", *SHORT
    )
    text = one_line_error(result)
    assert "no column 'sentence'" in text and "--dataset text-classification-files" in text


def test_conll_txt_files_are_read_as_conll(ltx_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text(CONLL * 3, encoding="utf-8")
    (tmp_path / "dev.txt").write_text(CONLL, encoding="utf-8")
    result = ltx_cli(
        "train", "token-classification", f"dataset.train_file={tmp_path / 'train.txt'}",
        f"dataset.validation_file={tmp_path / 'dev.txt'}",
        "--output-dir", str(tmp_path / "run"), *SHORT,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    exported = json.loads((tmp_path / "run" / "artifacts" / "hf_model" / "config.json").read_text())
    assert set(exported["id2label"].values()) == {"O", "B-ORG", "B-MISC", "B-PER", "I-PER"}


def test_given_label_names_are_the_tag_set(ltx_cli: Cli, tmp_path: Path) -> None:
    """A dev tag absent from train but in dataset.label_names is fine; one outside it is
    refused in one sentence naming dataset.label_names."""
    (tmp_path / "train.txt").write_text(CONLL * 2, encoding="utf-8")
    (tmp_path / "dev.txt").write_text(CONLL_DEV, encoding="utf-8")
    common = ["train", "token-classification", f"dataset.train_file={tmp_path / 'train.txt'}",
              f"dataset.validation_file={tmp_path / 'dev.txt'}", *SHORT]  # fmt: skip
    names = "dataset.label_names=[" + ",".join(CONLL_TAGS) + "]"
    ok = ltx_cli(*common, names, "--output-dir", str(tmp_path / "run"))
    assert ok.exit_code == 0, ok.output
    narrow = "dataset.label_names=[" + ",".join(CONLL_TAGS[:-1]) + "]"
    text = one_line_error(ltx_cli(*common, narrow))
    assert "'B-LOC'" in text and "dataset.label_names does not list" in text
