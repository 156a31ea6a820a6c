"""The chat task through the command line: a run ends with its numbers, predict completes
prompts and message lists, the export generates what ltx predict does, resume mid-epoch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ARGS = ("--backbone", "tiny-llama", "dataset.max_length=160", "dataset.batch_size=4",
        "task.generation.max_new_tokens=6", "--max-steps", "4")  # fmt: skip


@pytest.fixture
def chat_run(ltx_shared_run: Any) -> Path:
    return ltx_shared_run("chat", *ARGS)


def test_a_run_reports_loss_perplexity_and_generated_answers(chat_run: Path) -> None:
    summary = json.loads((chat_run / "summary.json").read_text())
    metrics = summary.get("metrics", summary)
    for key in ("val_loss", "val_perplexity", "test_perplexity", "test_exact_match",
                "test_f1", "test_rougeL"):  # fmt: skip
        assert key in metrics, sorted(metrics)
    assert 0.0 <= metrics["test_exact_match"] <= 1.0
    hf = chat_run / "artifacts" / "hf_model"
    assert (hf / "config.json").is_file() and (hf / "chat_template.jinja").is_file()


def _predict(ltx_cli: Any, ckpt: Path, *args: str) -> list[dict]:
    result = ltx_cli("predict", "--ckpt", str(ckpt), *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_predict_prompts_and_message_lists(ltx_cli: Any, chat_run: Path) -> None:
    ckpt = chat_run / "checkpoints" / "last.ckpt"
    messages = json.dumps(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    )
    rows = _predict(ltx_cli, ckpt, "What is 2 plus 3?", messages, "--set", "max_new_tokens=4")
    assert len(rows) == 2
    assert rows[0]["messages"] == [{"role": "user", "content": "What is 2 plus 3?"}]
    assert rows[1]["messages"][0]["role"] == "system"
    assert all(isinstance(r["completion"], str) and r["tokens"] <= 4 for r in rows)
    # Greedy by default: the same prompt gives the same answer.
    again = _predict(ltx_cli, ckpt, "What is 2 plus 3?", "--set", "max_new_tokens=4")
    assert again[0]["completion"] == rows[0]["completion"]


def test_predict_a_file_of_conversations(ltx_cli: Any, chat_run: Path, samples: Path) -> None:
    ckpt = chat_run / "checkpoints" / "last.ckpt"
    rows = _predict(
        ltx_cli, ckpt, "--input", str(samples / "chat" / "test.jsonl"), "--set", "max_new_tokens=2"
    )
    assert len(rows) == 24
    # The reference answer is not part of the prompt.
    assert all(r["messages"][-1]["role"] == "user" for r in rows)


def test_bad_prompt_is_one_sentence(ltx_cli: Any, chat_run: Path) -> None:
    result = ltx_cli(
        "predict", "--ckpt", str(chat_run / "checkpoints" / "last.ckpt"),
        '[{"role": "robot", "content": "x"}]',
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "Input 0 is not a prompt" in result.output and "Traceback" not in result.output


def test_the_export_generates_what_ltx_predict_does(ltx_cli: Any, chat_run: Path) -> None:
    import transformers

    # The export holds the final weights, as last.ckpt does.
    ckpt = chat_run / "checkpoints" / "last.ckpt"
    ours = _predict(ltx_cli, str(ckpt), "What is 7 plus 8?", "--set", "max_new_tokens=6")
    generator = transformers.pipeline("text-generation", model=str(chat_run / "artifacts/hf_model"))
    out = generator(
        [{"role": "user", "content": "What is 7 plus 8?"}], max_new_tokens=6, do_sample=False
    )
    theirs = out[0]["generated_text"][-1]
    assert theirs["role"] == "assistant"
    assert theirs["content"] == ours[0]["completion"]


def test_resume_mid_epoch(ltx_train: Any) -> None:
    args = ("--backbone", "tiny-llama", "dataset.max_length=128", "dataset.batch_size=4",
            "task.test_generation=false", "task.export_hf=false")  # fmt: skip
    first = ltx_train("chat", *args, "--max-steps", "3")
    assert first.summary()["global_step"] == 3
    resumed = ltx_train("chat", *args, "--max-steps", "6", "--resume")
    summary = resumed.summary()
    assert summary["resumed_from_step"] == 3 and summary["global_step"] == 6
