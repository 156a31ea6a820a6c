"""``ltx test TASK`` without ``--ckpt``: a Hugging Face model folder that ltx did not train
(here: the ``hf_model/`` export of a short run, and copies of it with other label
mappings) scored on a dataset with the metrics training logs, through the CLI.

- the export scores exactly as the checkpoint it came from;
- a classifier whose labels are named in another order (and case) is mapped onto the
  dataset's labels by name and scores the same;
- labels that are not the dataset's, an untrained head (the packaged MiniLM) and random
  weights are refused with one sentence and exit code 2;
- the export's model card carries the run's real metric values.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Score = Callable[..., dict[str, float]]

pytestmark = pytest.mark.slow


def _data(sst2: Path) -> list[str]:
    return [
        "--dataset", "text-classification-files", "--accelerator", "cpu",
        f"dataset.train_file={sst2 / 'dev.tsv'}", f"dataset.test_file={sst2 / 'test.tsv'}",
        "dataset.label_names=[negative, positive]", "dataset.limit_train_samples=256",
        "dataset.limit_val_samples=32", "dataset.limit_test_samples=64", "dataset.cache=false",
        "trainer.enable_progress_bar=false",
    ]  # fmt: skip


@pytest.fixture
def run(ltx_shared_run: Callable[..., Path], shared: Path) -> dict[str, Any]:
    """A short real training run with its export, trained once for the tests here."""
    sst2 = shared / "sst2"
    out = ltx_shared_run(
        "text-classification", "--backbone", "tiny-bert", *_data(sst2),
        "--max-epochs", "1", "optimizer.lr=0.003", "trainer.num_sanity_val_steps=0",
    )  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    return {"dir": out, "data": _data(sst2), "best": summary["checkpoints"]["best"], **summary}


@pytest.fixture
def score(ltx_cli: Callable[..., Any]) -> Score:
    """``score(*args)``: the metrics of ``ltx test ARGS --json``, which must succeed."""

    def test(*args: str) -> dict[str, float]:
        result = ltx_cli("test", *args, "--json")
        assert result.exit_code == 0, result.output
        scores: dict[str, float] = json.loads(result.stdout)
        return scores

    return test


def _score_folder(score: Score, run: dict[str, Any], folder: Path) -> dict[str, float]:
    return score(
        "text-classification", "--backbone", "hf",
        f"backbone.pretrained_model_name_or_path={folder}", *run["data"],
    )  # fmt: skip


def _relabelled(src: Path, dst: Path, names: list[str], order: list[int]) -> Path:
    """A copy of the export whose class ``i`` is the original's ``order[i]``, named ``names``."""
    import torch
    from transformers import AutoModelForSequenceClassification

    shutil.copytree(src, dst)
    model = AutoModelForSequenceClassification.from_pretrained(src)
    with torch.no_grad():
        for p in (model.classifier.weight, model.classifier.bias):
            p.copy_(p[torch.tensor(order)])
    model.config.id2label = dict(enumerate(names))
    model.config.label2id = {n: i for i, n in enumerate(names)}
    model.save_pretrained(dst)
    return dst


def test_the_export_scores_as_its_checkpoint(run: dict[str, Any], score: Score) -> None:
    from_ckpt = score("--ckpt", run["best"])
    from_folder = _score_folder(score, run, run["dir"] / "artifacts" / "hf_model")
    assert set(from_ckpt) == set(from_folder) == {"test_acc", "test_f1", "test_loss", "test_mcc"}
    for key, value in from_ckpt.items():
        assert from_folder[key] == pytest.approx(value, abs=1e-6), key
    # The training run's own test (on the best checkpoint) agrees too.
    assert from_ckpt["test_acc"] == pytest.approx(run["metrics"]["test_acc"], abs=1e-6)


def test_a_classifier_with_its_own_label_order_is_mapped_by_name(
    run: dict[str, Any], score: Score, tmp_path: Path
) -> None:
    export = run["dir"] / "artifacts" / "hf_model"
    reference = _score_folder(score, run, export)
    # Class 0 is now POSITIVE: the head's rows are swapped and renamed, in upper case.
    swapped = _relabelled(export, tmp_path / "swapped", ["POSITIVE", "NEGATIVE"], [1, 0])
    scored = _score_folder(score, run, swapped)
    for key, value in reference.items():
        assert scored[key] == pytest.approx(value, abs=1e-5), key


def test_labels_other_than_the_datasets_are_refused(
    run: dict[str, Any], tmp_path: Path, run_ltx: Callable[..., Any]
) -> None:
    export = run["dir"] / "artifacts" / "hf_model"
    other = _relabelled(export, tmp_path / "other", ["bad", "good"], [0, 1])
    # A real process, as a user meets it: one sentence, exit 2, no traceback.
    done = run_ltx(
        "test", "text-classification", "--backbone", "hf",
        f"backbone.pretrained_model_name_or_path={other}", *run["data"],
        env={"HF_HUB_OFFLINE": "1", "COLUMNS": "300"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("Error: The model") and message.endswith("."), message
    assert "bad, good" in message and "negative, positive" in message, message


@pytest.mark.parametrize(
    ("backbone", "says"),
    [
        (["--backbone", "minilm"], "has no trained sequence-classification head"),
        (["--backbone", "tiny-bert"], "random weights"),
    ],
    ids=["untrained head", "random weights"],
)
def test_models_without_trained_weights_are_refused(
    run: dict[str, Any], backbone: list[str], says: str, ltx_cli: Callable[..., Any]
) -> None:
    result = ltx_cli("test", "text-classification", *backbone, *run["data"])
    assert result.exit_code == 2, result.output
    # The sentence comes last, after progress bars; the test console wraps long lines.
    message = " ".join(result.stderr.split("Error:", 1)[-1].split())
    assert says in message, message


def test_the_export_has_a_model_card_with_the_runs_metrics(run: dict[str, Any]) -> None:
    from huggingface_hub import ModelCard

    card_path = run["dir"] / "artifacts" / "hf_model" / "README.md"
    card = ModelCard.load(card_path)  # the Hub's own parser of the front matter
    data = card.data.to_dict()
    assert data["library_name"] == "transformers"
    assert data["pipeline_tag"] == "text-classification"
    assert data["datasets"] == ["text-classification-files"]
    assert "base_model" not in data  # tiny-bert starts from random weights
    results = {(r.dataset_split, r.metric_name): r.metric_value for r in card.data.eval_results}
    metrics = run["metrics"]
    for name in ("test_acc", "test_f1", "test_loss", "val_acc", "val_loss"):
        split = "test" if name.startswith("test_") else "validation"
        assert results[(split, name)] == pytest.approx(metrics[name], abs=1e-6), name
    text = card_path.read_text()
    for heading in ("## Results", "## Training", "## Data", "## Intended use", "## Limitations"):
        assert heading in text
    assert "negative, positive" in text and "optimizer.lr" not in text
    assert "lr 0.003" in text
