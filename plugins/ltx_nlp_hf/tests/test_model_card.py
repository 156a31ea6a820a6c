"""The export's model card (``hf_model/README.md``) from a run's records: the YAML front
matter as the Hub reads it (parsed here with ``huggingface_hub``'s own ``ModelCard``),
the metric values of ``metrics.csv``, and the base model and datasets from the config.
The end-to-end check on a real training run is in ``test_evaluate_hf.py``."""

from __future__ import annotations

import json
from pathlib import Path

from ltx_nlp_hf.model_card import read_run_metrics, write_model_card

from ltx_core.config.resolve import resolve_config

HANDOFF = {"label_names": ["negative", "positive"], "max_length": 128}
LOAD = "transformers.AutoModelForSequenceClassification.from_pretrained"


def _run(tmp_path: Path, *overrides: str, backbone: str = "minilm", dataset: str = "sst2") -> Path:
    run = tmp_path / "my-run"
    (run / "hf_model").mkdir(parents=True)
    resolved = resolve_config(
        "text-classification", dataset=dataset, backbone=backbone, overrides=list(overrides)
    )
    (run / "config.yaml").write_text(resolved.to_yaml())
    # As the CSV logger writes it: validation rows during fit, the test row at the end.
    (run / "metrics.csv").write_text(
        "epoch,step,test_acc,test_f1,train_loss,val_acc,val_loss\n"
        "0,9,,,0.70,0.61,0.66\n"
        "1,19,,,0.52,0.7125,0.58\n"
        "1,20,0.6875,0.70125,,,\n"
    )
    return run


def _card(run: Path) -> tuple[object, str]:
    from huggingface_hub import ModelCard

    path = write_model_card(
        run / "hf_model", run, HANDOFF, pipeline="text-classification", load_with=LOAD
    )
    assert path is not None
    return ModelCard.load(path), path.read_text()


def test_front_matter_parses_as_the_hub_reads_it(tmp_path: Path) -> None:
    card, text = _card(_run(tmp_path))
    data = card.data.to_dict()  # type: ignore[attr-defined]
    assert data["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert data["pipeline_tag"] == "text-classification"
    assert data["library_name"] == "transformers"
    assert data["datasets"] == ["nyu-mll/glue"]
    assert set(data["metrics"]) == {"accuracy", "f1", "loss"}
    results = {
        (r.dataset_split, r.metric_name): (r.metric_type, r.metric_value)
        for r in card.data.eval_results  # type: ignore[attr-defined]
    }
    assert results == {
        ("test", "test_acc"): ("accuracy", 0.6875),
        ("test", "test_f1"): ("f1", 0.70125),
        ("validation", "val_acc"): ("accuracy", 0.7125),
        ("validation", "val_loss"): ("loss", 0.58),
    }
    sst2 = [r for r in card.data.eval_results]  # type: ignore[attr-defined]
    assert {r.dataset_config for r in sst2} == {"sst2"}
    assert "| test_acc | 0.6875 |" in text and "| val_acc | 0.7125 |" in text
    assert "max length (tokens) | 128" in text and "negative, positive" in text
    assert text.index("## Training") < text.index("## Data") < text.index("## Limitations")


def test_the_final_metrics_come_from_metrics_csv_not_a_stale_summary(tmp_path: Path) -> None:
    run = _run(tmp_path)
    # A resumed run's summary.json is the previous run's until training ends.
    (run / "summary.json").write_text(json.dumps({"metrics": {"test_acc": 0.1}}))
    assert read_run_metrics(run)["test_acc"] == 0.6875
    (run / "metrics.csv").unlink()
    assert read_run_metrics(run) == {"test_acc": 0.1}


def test_a_local_base_model_and_own_files_are_named_without_hub_ids(tmp_path: Path) -> None:
    local = tmp_path / "my-bert"
    local.mkdir()
    run = _run(
        tmp_path,
        f"backbone.pretrained_model_name_or_path={local}",
        "dataset.train_file=train.tsv",
        backbone="hf",
        dataset="text-classification-files",
    )
    card, text = _card(run)
    data = card.data.to_dict()  # type: ignore[attr-defined]
    assert "base_model" not in data  # a folder on this machine is no Hub id
    assert data["datasets"] == ["text-classification-files"]
    assert str(local) in text and "train.tsv" in text


def test_no_card_without_a_run_config(tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    (bare / "hf_model").mkdir(parents=True)
    assert write_model_card(bare / "hf_model", bare, HANDOFF, pipeline=None, load_with=LOAD) is None
    assert not (bare / "hf_model" / "README.md").exists()
