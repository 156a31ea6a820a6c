"""Every task end to end on the real shared data, through the core as ``ltx train`` runs it:
fit with validation, test the best checkpoint, write the run directory and the Hugging Face
export; then ``ltx test`` and ``ltx predict`` from the checkpoint alone. Tiny random
backbones, a few steps, CPU."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ltx_core.config.resolve import resolve_config

#: The trainer of every case: a few batches on the CPU, no progress bar or TensorBoard.
TRAINER = {
    "accelerator": "cpu", "devices": 1, "max_epochs": 1, "limit_train_batches": 3,
    "limit_val_batches": 2, "limit_test_batches": 2, "num_sanity_val_steps": 0,
    "log_every_n_steps": 1, "enable_progress_bar": False, "tensorboard": False,
}  # fmt: skip


@dataclass
class Case:
    task: str
    dataset: str
    backbone: str
    data: dict[str, Any]  # paths relative to the shared data folder
    metrics: tuple[str, ...]
    inputs: tuple[str, ...]
    result_keys: tuple[str, ...]
    pipeline: str | None = None
    pipeline_input: Any = None
    task_options: dict[str, Any] = field(default_factory=dict)


SHORT = {"generation": {"max_new_tokens": 6}}
CASES = [
    Case("text-classification", "text-classification-files", "tiny-bert",
         {"train_file": "sst2/train.tsv", "validation_file": "sst2/dev.tsv",
          "test_file": "sst2/test.tsv", "text_column": "sentence",
          "label_names": ["negative", "positive"], "limit_train_samples": 96,
          "limit_val_samples": 32, "limit_test_samples": 32},
         ("val_acc", "val_f1", "val_loss", "test_acc", "test_f1", "test_mcc"),
         ("a gripping film", "a dull mess"), ("label", "score"),
         "text-classification", "a gripping film"),
    Case("text-classification", "text-classification-files", "tiny-bert",
         {"train_file": "hf_samples/MRPC/train.tsv", "validation_file": "hf_samples/MRPC/dev.tsv",
          "test_file": "hf_samples/MRPC/dev.tsv", "text_column": "#1 String",
          "text_pair_column": "#2 String", "label_column": "Quality",
          "label_names": ["not_equivalent", "equivalent"]},
         ("val_acc", "test_acc", "test_f1"),
         ("He left early . ||| He went away early .",), ("label", "score"),
         "text-classification", {"text": "He left early .", "text_pair": "He went early ."}),
    Case("token-classification", "token-classification-files", "tiny-bert",
         {"train_file": "hf_samples/conll/sample.json",
          "validation_file": "hf_samples/conll/sample.json",
          "test_file": "hf_samples/conll/sample.json", "tokens_column": "words",
          "tags_column": "ner"},
         ("val_f1", "test_precision", "test_recall", "test_f1", "test_acc"),
         ("President Bill Clinton visited Chicago .",), ("tags",),
         "token-classification", "Bill Clinton visited Chicago ."),
    Case("question-answering", "question-answering-files", "tiny-bert",
         {"train_file": "hf_samples/SQUAD/sample.json",
          "validation_file": "hf_samples/SQUAD/sample.json",
          "test_file": "hf_samples/SQUAD/sample.json", "max_length": 128, "doc_stride": 32},
         ("val_exact_match", "val_f1", "test_exact_match", "test_f1"),
         ('{"question": "Where is Normandy?", "context": "Normandy is a region in France."}',),
         ("answer", "start", "end")),
    Case("language-modeling", "language-modeling-files", "tiny-gpt2",
         {"train_file": "hf_samples/wiki_text/wiki_00",
          "test_file": "hf_samples/wiki_text/wiki_00", "max_length": 64},
         ("val_loss", "val_perplexity", "test_perplexity"),
         ("The history of anarchism",), ("generated",),
         "text-generation", "The history of", SHORT),
    Case("masked-language-modeling", "language-modeling-files", "tiny-bert",
         {"train_file": "hf_samples/wiki_text/wiki_00",
          "test_file": "hf_samples/wiki_text/wiki_00", "max_length": 64},
         ("val_loss", "val_perplexity", "test_perplexity"),
         ("Paris is the [MASK] of France.",), ("fills",),
         "fill-mask", "Paris is the [MASK] of France."),
    Case("multiple-choice", "multiple-choice-files", "tiny-bert",
         {"train_file": "hf_samples/swag/sample.json",
          "validation_file": "hf_samples/swag/sample.json",
          "test_file": "hf_samples/swag/sample.json", "file_format": "jsonl"},
         ("val_acc", "test_acc"),
         ('{"context": "A drum line passes.", "endings": ["they play on.", "a cat flies."]}',),
         ("choice", "ending", "scores")),
    Case("summarization", "summarization-files", "tiny-t5",
         {"train_file": "hf_samples/xsum/sample.json", "test_file": "hf_samples/xsum/sample.json",
          "file_format": "jsonl", "max_length": 128, "max_target_length": 32,
          "source_prefix": "summarize: "},
         ("val_loss", "val_rougeL", "test_rouge1", "test_rouge2", "test_rougeL"),
         ("The ice could lead to difficult driving conditions on untreated roads.",),
         ("output",), None, None, SHORT),
    Case("translation", "translation-files", "tiny-t5",
         {"train_file": "hf_samples/wmt16/sample.json",
          "test_file": "hf_samples/wmt16/sample.json", "file_format": "jsonl",
          "source_prefix": "translate English to Romanian: "},
         ("val_loss", "val_bleu", "test_bleu", "test_chrf"),
         ("Membership of Parliament: see Minutes",), ("output",), None, None, SHORT),
]  # fmt: skip


def _paths(data: dict[str, Any], shared: Path) -> dict[str, Any]:
    return {k: str(shared / v) if k.endswith("_file") else v for k, v in data.items()}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.task}-{c.data.get('train_file')}")
def test_task_trains_tests_predicts_and_exports(case: Case, shared: Path, tmp_path: Path) -> None:
    from ltx_core.engine.training import train
    from ltx_core.inference.evaluation import test_checkpoint
    from ltx_core.inference.predict import predict

    config = {
        "task": {"name": case.task, **case.task_options},
        "dataset": {"name": case.dataset, "batch_size": 4, **_paths(case.data, shared)},
        "backbone": {"name": case.backbone},
        "optimizer": {"lr": 1e-3},
        "trainer": TRAINER,
        "output_dir": str(tmp_path / "run"),
    }
    run_dir = train(resolve_config(case.task, config_data=config))

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["global_step"] > 0
    missing = [m for m in case.metrics if m not in summary["metrics"]]
    assert not missing, f"{missing} not in {sorted(summary['metrics'])}"
    if summary["global_step"] > 2:  # the core leaves two warm-up steps out of its timing
        assert summary["throughput"]["samples_per_s"] > 0
        assert summary["throughput"]["tokens_per_s"] > summary["throughput"]["samples_per_s"]
    assert (run_dir / "metrics.csv").is_file() and (run_dir / "config.yaml").is_file()

    # From the checkpoint alone: the run config and hand-off travel inside it.
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    tested = test_checkpoint(ckpt, accelerator="cpu")
    assert {m for m in case.metrics if m.startswith("test_")} <= set(tested)
    results = predict(ckpt, list(case.inputs), tmp_path / "predictions")
    assert len(results) == len(case.inputs)
    for result in results:
        assert set(case.result_keys) <= set(result), result
        json.dumps(result)

    _check_export(run_dir / "artifacts" / "hf_model", case)


def _check_export(folder: Path, case: Case) -> None:
    """The export loads with plain transformers: a pipeline where v5 still has one."""
    import transformers

    note = json.loads((folder / "ltx_export.json").read_text())
    auto = getattr(transformers, note["load_with"].split(".")[1])
    model = auto.from_pretrained(folder)
    transformers.AutoTokenizer.from_pretrained(folder)
    if case.pipeline is None:
        return
    pipe = transformers.pipeline(case.pipeline, model=str(folder), device="cpu")
    kwargs = {"max_new_tokens": 4} if case.pipeline == "text-generation" else {}
    out = pipe(case.pipeline_input, **kwargs)
    assert out
    if case.pipeline == "text-classification":
        first = out[0] if isinstance(out, list) else out  # a pair input gives one dict
        names = set(model.config.id2label.values())
        assert first["label"] in names and names == set(case.data["label_names"])
