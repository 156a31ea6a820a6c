"""The plugin through the ``ltx`` CLI (Typer's runner, in-process): listing, config, a
short training run, ``ltx test`` and ``ltx predict`` from its checkpoint, and user mistakes
as exit code 2 with one line and no traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ltx_core.cli.testing import QUIET

FAST = [
    "--backbone", "tiny-bert", "--accelerator", "cpu", "--max-epochs", "1",
    "trainer.limit_train_batches=3", "trainer.limit_val_batches=2",
    "trainer.limit_test_batches=2", *QUIET, "trainer.num_sanity_val_steps=0",
    "dataset.batch_size=8", "optimizer.lr=0.001",
]  # fmt: skip
Cli = Callable[..., Any]


def test_list_shows_the_plugin(ltx_cli: Cli) -> None:
    result = ltx_cli("list", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    ours = {c["name"]: c for c in data["components"] if c["plugin"] == "nlp-hf"}
    assert {"text-classification", "translation", "minilm", "tiny-t5", "hf-auto"} <= set(ours)
    assert ours["sst2"]["kind"] == "dataset" and ours["sst2"]["version"] == "0.2.1"
    assert not [f for f in data["failed"] if f["plugin"] == "nlp-hf"]


def test_config_shows_the_resolved_tree(ltx_cli: Cli) -> None:
    result = ltx_cli(
        "config", "question-answering", "--dataset", "squad-sample", "dataset.doc_stride=64"
    )
    assert result.exit_code == 0, result.output
    tree = yaml.safe_load(result.stdout)
    assert tree["dataset"]["doc_stride"] == 64 and tree["dataset"]["max_length"] == 384
    assert (
        tree["backbone"]["name"] == "nlp-hf:minilm"
        and tree["tokenizer"]["name"] == "nlp-hf:hf-auto"
    )
    assert tree["optimizer"]["lr"] == pytest.approx(5e-5)


def test_train_then_test_and_predict_from_the_checkpoint(
    ltx_cli: Cli, shared: Path, tmp_path: Path
) -> None:
    sst2 = shared / "sst2"
    result = ltx_cli(
        "train", "text-classification", "--dataset", "text-classification-files", *FAST,
        f"dataset.train_file={sst2 / 'train.tsv'}", f"dataset.validation_file={sst2 / 'dev.tsv'}",
        f"dataset.test_file={sst2 / 'test.tsv'}", "dataset.text_column=sentence",
        "dataset.label_names=[negative, positive]", "dataset.limit_train_samples=64",
        "dataset.limit_val_samples=16", "dataset.limit_test_samples=16", "-o", "run",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert {"val_acc", "test_acc", "test_f1"} <= set(summary["metrics"])
    assert (tmp_path / "run" / "artifacts" / "hf_model" / "config.json").is_file()

    ckpt = str(tmp_path / "run" / "checkpoints" / "last.ckpt")
    tested = ltx_cli("test", "--ckpt", ckpt, "--json")
    assert tested.exit_code == 0, tested.output
    assert set(json.loads(tested.stdout)) >= {"test_acc", "test_f1", "test_loss"}

    predicted = ltx_cli("predict", "--ckpt", ckpt, "a moving film", "a dull film")
    assert predicted.exit_code == 0, predicted.output
    lines = [json.loads(line) for line in predicted.stdout.strip().splitlines()]
    assert [r["input"] for r in lines] == ["a moving film", "a dull film"]
    assert all(r["label"] in {"negative", "positive"} for r in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dataset.train_file=nowhere.tsv"], "training file 'nowhere.tsv' does not exist"),
        (["dataset.text_column=review"], "has no column 'review' (dataset.text_column)"),
        (["dataset.max_length=0"], "dataset.max_length"),
    ],
)
def test_user_mistakes_exit_2_with_one_line(ltx_cli: Cli, args: list[str], message: str) -> None:
    result = ltx_cli("train", "text-classification", *FAST, *args, "-o", "run")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) <= 3  # one sentence, wrapped by the console


def test_predict_input_mistake_exits_2(ltx_cli: Cli, tmp_path: Path) -> None:
    result = ltx_cli(
        "train", "question-answering", "--dataset", "squad-sample", *FAST,
        "dataset.max_length=128", "dataset.doc_stride=32", "-o", "qa",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ckpt = str(tmp_path / "qa" / "checkpoints" / "last.ckpt")
    bad = ltx_cli("predict", "--ckpt", ckpt, "where is it?")
    assert bad.exit_code == 2 and "--set context=" in bad.stderr
    good = ltx_cli("predict", "--ckpt", ckpt, "--set", "context=It is in France.", "Where is it?")
    assert good.exit_code == 0, good.output
    answer = json.loads(good.stdout.strip().splitlines()[-1])
    assert answer["question"] == "Where is it?" and answer["answer"] in "It is in France."
