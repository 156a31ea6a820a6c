"""The chat export is a plain Hugging Face causal LM: lm-evaluation-harness's ``hf`` model
loads it and scores a local task (a YAML task over a JSON-lines file, no hub)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

lm_eval = pytest.importorskip("lm_eval")
pytestmark = pytest.mark.slow

ARGS = ("--backbone", "tiny-llama", "dataset.max_length=160", "dataset.batch_size=4",
        "task.generation.max_new_tokens=6", "--max-steps", "4")  # fmt: skip
TASK = """task: ltx_sentiment_local
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "Review: {{{{text}}}}\\nSentiment:"
doc_to_choice: ["negative", "positive"]
doc_to_target: label
metric_list:
  - metric: acc
"""


def test_lm_eval_hf_loads_the_export(ltx_shared_run: Any, tmp_path: Path) -> None:
    from lm_eval.tasks import TaskManager

    export = ltx_shared_run("chat", *ARGS) / "artifacts" / "hf_model"
    data = tmp_path / "sentiment.jsonl"
    rows = [{"text": "a wonderful film", "label": 1}, {"text": "a dull mess", "label": 0}] * 3
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "ltx_sentiment_local.yaml").write_text(TASK.format(data=data), encoding="utf-8")
    results = lm_eval.simple_evaluate(
        model="hf",
        model_args=f"pretrained={export},dtype=float32",
        tasks=["ltx_sentiment_local"],
        task_manager=TaskManager(include_path=str(tasks)),
        device="cpu",
        batch_size=2,
    )
    score = results["results"]["ltx_sentiment_local"]
    assert 0.0 <= score["acc,none"] <= 1.0
    assert results["config"]["model"] == "hf"
