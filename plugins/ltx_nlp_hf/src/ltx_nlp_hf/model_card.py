"""The model card of a Hugging Face export: ``hf_model/README.md``.

The Hub reads a model card's YAML front matter (``base_model``, ``pipeline_tag``,
``library_name``, ``datasets``, ``metrics`` and a ``model-index`` with the scores) and
shows the Markdown below it. Everything here comes from the run's own records: its
``config.yaml``, its metrics (``summary.json`` when it exists, else the final values of
``metrics.csv``, which is complete when the export is written) and the dataset's
hand-off — nothing is typed in by hand, so the card cannot drift from the run.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = ["METRIC_TYPES", "model_card", "read_run_metrics", "write_model_card"]

#: ltx's logged metric names -> the Hub's metric ids (model-index ``type``).
METRIC_TYPES = {
    "acc": "accuracy",
    "f1": "f1",
    "mcc": "matthews_correlation",
    "precision": "precision",
    "recall": "recall",
    "exact_match": "exact_match",
    "perplexity": "perplexity",
    "loss": "loss",
    "pearson": "pearsonr",
    "spearman": "spearmanr",
    "mse": "mse",
    "rouge1": "rouge",
    "rouge2": "rouge",
    "rougeL": "rouge",
    "bleu": "bleu",
    "chrf": "chrf",
}
#: ltx task names -> the Hub's pipeline tags, for tasks whose export has no pipeline.
PIPELINE_TAGS = {
    "text-classification": "text-classification",
    "token-classification": "token-classification",
    "question-answering": "question-answering",
    "language-modeling": "text-generation",
    "masked-language-modeling": "fill-mask",
    "summarization": "summarization",
    "translation": "translation",
}
SPLITS = {"val": "validation", "test": "test"}


def read_run_metrics(run_dir: Path) -> dict[str, float]:
    """The run's final metrics: the last value of each column of ``metrics.csv`` (complete
    when the export is written, which is before ``summary.json``; a resumed run's old
    summary would be stale), else ``summary.json``'s."""
    out: dict[str, float] = {}
    path = run_dir / "metrics.csv"
    if not path.is_file():
        summary = run_dir / "summary.json"
        if summary.is_file():
            metrics = json.loads(summary.read_text(encoding="utf-8")).get("metrics", {})
            return {k: float(v) for k, v in metrics.items()}
    else:
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                for key, value in row.items():
                    if key in ("epoch", "step") or value in (None, ""):
                        continue
                    try:
                        out[key] = float(value)
                    except ValueError:
                        continue
    return out


def _base_model(backbone: Mapping[str, Any]) -> str | None:
    """The Hub id the model was fine-tuned from (None: random init, or a local folder)."""
    name = backbone.get("pretrained_model_name_or_path")
    if not isinstance(name, str) or backbone.get("pretrained") is False:
        return None
    from ltx_nlp_hf.hub import embedded_model_path

    if embedded_model_path(name) is not None:
        return name if "/" in name else f"sentence-transformers/{name}"
    if Path(name).expanduser().exists() or name.startswith((".", "/", "~")):
        return None
    return name


def _dataset_id(dataset: Mapping[str, Any]) -> str:
    hub = dataset.get("hub_path")
    own_files = any(dataset.get(f) for f in ("train_file", "validation_file", "test_file"))
    if isinstance(hub, str) and hub and not own_files:
        return hub
    # The component's own name: a saved config qualifies it ("nlp-hf:sst2-sample"), which
    # the Hub would read as a malformed dataset id.
    return str(dataset.get("name", "unknown")).rpartition(":")[2]


def _results(metrics: Mapping[str, float]) -> list[dict[str, Any]]:
    """model-index metric entries, one per logged val_/test_ value."""
    out = []
    for key in sorted(metrics):
        stage, _, name = key.partition("_")
        if stage not in SPLITS or name not in METRIC_TYPES:
            continue
        out.append(
            {
                "split": SPLITS[stage],
                "type": METRIC_TYPES[name],
                "name": key,
                "value": round(float(metrics[key]), 6),
            }
        )
    return out


def _front_matter(
    config: Mapping[str, Any],
    metrics: Mapping[str, float],
    pipeline: str | None,
    model_name: str,
) -> dict[str, Any]:
    task = config.get("task", {}) or {}
    dataset = config.get("dataset", {}) or {}
    backbone = config.get("backbone", {}) or {}
    task_name = str(task.get("name", ""))
    tag = pipeline or PIPELINE_TAGS.get(task_name)
    dataset_id = _dataset_id(dataset)
    results = _results(metrics)
    meta: dict[str, Any] = {"library_name": "transformers"}
    base = _base_model(backbone)
    if base:
        meta["base_model"] = base
    if tag:
        meta["pipeline_tag"] = tag
    meta["tags"] = ["ltx", task_name] if task_name else ["ltx"]
    meta["datasets"] = [dataset_id]
    meta["metrics"] = sorted({r["type"] for r in results})
    entries = []
    for split in ("validation", "test"):
        chosen = [r for r in results if r["split"] == split]
        if not chosen:
            continue
        entries.append(
            {
                "task": {"type": tag or task_name, "name": task_name},
                "dataset": {"name": str(dataset.get("name", dataset_id)), "type": dataset_id}
                | ({"config": dataset["hub_name"]} if dataset.get("hub_name") else {})
                | {"split": split},
                "metrics": [
                    {"type": r["type"], "value": r["value"], "name": r["name"]} for r in chosen
                ],
            }
        )
    meta["model-index"] = [{"name": model_name, "results": entries}]
    return meta


def _table(rows: list[tuple[str, str]]) -> str:
    lines = ["| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines)


def model_card(
    config: Mapping[str, Any],
    metrics: Mapping[str, float],
    handoff: Mapping[str, Any],
    *,
    pipeline: str | None,
    load_with: str,
    model_name: str,
) -> str:
    """The card's text: YAML front matter, then what the model is and how it was made."""
    meta = _front_matter(config, metrics, pipeline, model_name)
    task = config.get("task", {}) or {}
    dataset = config.get("dataset", {}) or {}
    backbone = config.get("backbone", {}) or {}
    optimizer = config.get("optimizer", {}) or {}
    trainer = config.get("trainer", {}) or {}
    task_name = str(task.get("name", "the task"))
    base = meta.get("base_model")
    origin = (
        f"fine-tuned from [{base}](https://huggingface.co/{base})"
        if base
        else f"the backbone '{backbone.get('name')}'"
        + (
            f" ({backbone.get('pretrained_model_name_or_path')})"
            if backbone.get("pretrained_model_name_or_path")
            else ""
        )
        + (" trained from random weights" if not backbone.get("pretrained", False) else "")
    )
    parts = ["---", yaml.safe_dump(meta, sort_keys=False).rstrip(), "---", ""]
    parts += [f"# {model_name}", ""]
    parts += [
        f"A {task_name} model, {origin}, trained with ltx on the dataset '{dataset.get('name')}'.",
        "",
        "## Results",
        "",
    ]
    shown = [(k, f"{v:.4f}") for k, v in sorted(metrics.items()) if k.startswith(("val_", "test_"))]
    parts += [_table(shown) if shown else "No validation or test metrics were logged.", ""]

    parts += ["## Training", ""]
    rows = [
        ("task", task_name),
        ("backbone", str(backbone.get("name"))),
        ("optimizer", f"{optimizer.get('name')}, lr {optimizer.get('lr')}"),
        ("batch size", str(dataset.get("batch_size"))),
        ("max epochs", str(trainer.get("max_epochs"))),
        ("max steps", str(trainer.get("max_steps"))),
        ("precision", str(trainer.get("precision"))),
        ("seed", str(config.get("seed"))),
    ]
    parts += [_table(rows), "", "The full run config (`ltx train --config` reproduces it):", ""]
    parts += ["```yaml", yaml.safe_dump(dict(config), sort_keys=False).rstrip(), "```", ""]

    parts += ["## Data", ""]
    data_rows = [("dataset", str(dataset.get("name")))]
    for key in ("hub_path", "hub_name", "train_file", "validation_file", "test_file"):
        if dataset.get(key):
            value = dataset[key]
            data_rows.append((key, Path(value).name if key.endswith("_file") else str(value)))
    for key in ("limit_train_samples", "limit_val_samples", "limit_test_samples"):
        if dataset.get(key) is not None:
            data_rows.append((key.replace("_", " "), str(dataset[key])))
    if handoff.get("label_names"):
        data_rows.append(("labels", ", ".join(str(n) for n in handoff["label_names"])))
    if handoff.get("max_length"):
        data_rows.append(("max length (tokens)", str(handoff["max_length"])))
    parts += [_table(data_rows), ""]

    parts += ["## How to use", "", "```python", "import transformers", ""]
    if meta.get("pipeline_tag") and pipeline:
        parts += [f'pipe = transformers.pipeline("{pipeline}", model="PATH/TO/hf_model")']
    else:
        parts += [f'model = {load_with}("PATH/TO/hf_model")']
    parts += ["```", ""]

    labels = handoff.get("label_names")
    parts += [
        "## Intended use",
        "",
        f"{task_name.capitalize()} of text like the training data"
        + (f", with the labels {', '.join(str(n) for n in labels)}" if labels else "")
        + ". It is a research and engineering artefact; check it on your own data before "
        "relying on it.",
        "",
        "## Limitations",
        "",
        f"- Inputs longer than {handoff.get('max_length', 'the maximum length')} tokens are "
        "truncated.",
        "- The scores above are on the data named here only; other domains, languages or "
        "label sets were not measured.",
    ]
    if labels:
        parts.append("- It predicts only the labels it was trained on.")
    if any(dataset.get(k) is not None for k in ("limit_train_samples", "limit_test_samples")):
        parts.append("- Trained and scored on a limited number of samples (see Data).")
    parts.append(
        "- Biases of the training data and of the base model carry over to the predictions."
    )
    return "\n".join(parts) + "\n"


def write_model_card(
    out: Path,
    run_dir: Path,
    handoff: Mapping[str, Any],
    *,
    pipeline: str | None,
    load_with: str,
) -> Path | None:
    """Write ``out/README.md`` from the run's records; None when there is no run config."""
    config_path = run_dir / "config.yaml"
    if not config_path.is_file():
        return None
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    text = model_card(
        config,
        read_run_metrics(run_dir),
        handoff,
        pipeline=pipeline,
        load_with=load_with,
        model_name=run_dir.resolve().name,
    )
    path = out / "README.md"
    path.write_text(text, encoding="utf-8")
    return path
