"""Assistant-only masks under two chat templates, the data checks and truncation policy."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from ltx_llm.data import render_split
from ltx_llm.rendering import RenderProblem, render, resolve_template

from ltx_core.errors import LtxError

CONVERSATION = [
    {"role": "system", "content": "You add numbers."},
    {"role": "user", "content": "What is 2 plus 3?"},
    {"role": "assistant", "content": "2 plus 3 is 5."},
    {"role": "user", "content": "And times 4?"},
    {"role": "assistant", "content": "5 times 4 is 20."},
    {"role": "user", "content": "Thanks!"},
    {"role": "assistant", "content": "You are welcome."},
]
ANSWERS = [m["content"] for m in CONVERSATION if m["role"] == "assistant"]
# Llama 3's template (the shape of meta-llama/Meta-Llama-3-8B-Instruct's), given as a string.
LLAMA3 = (
    "{{ '<|begin_of_text|>' }}{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + "
    "message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
    "{% endif %}"
)
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]


@pytest.fixture(scope="module")
def llama3_tokenizer(chat_tokenizer: Any) -> Any:
    tok = copy.deepcopy(chat_tokenizer)
    tok.add_special_tokens({"additional_special_tokens": LLAMA3_SPECIALS})
    return tok


def _trained_runs(tok: Any, ids: list[int], trained: list[bool]) -> list[str]:
    """The trained tokens, decoded run by run (each run one answer)."""
    runs: list[list[int]] = []
    for k, (t, keep) in enumerate(zip(ids, trained, strict=True)):
        if keep:
            if k == 0 or not trained[k - 1]:
                runs.append([])
            runs[-1].append(t)
    return [tok.decode(r, skip_special_tokens=False) for r in runs]


def test_chatml_every_assistant_turn_trained_exactly(chat_tokenizer: Any) -> None:
    template = resolve_template(chat_tokenizer, None)
    out = render(chat_tokenizer, CONVERSATION, template=template, max_length=512)
    assert _trained_runs(chat_tokenizer, out.input_ids, out.trained) == [
        f"{a}<|im_end|>" for a in ANSWERS
    ]
    assert len(out.answers) == 3 and not out.truncated


def test_llama3_template_given_as_string(llama3_tokenizer: Any) -> None:
    template = resolve_template(llama3_tokenizer, LLAMA3)
    out = render(llama3_tokenizer, CONVERSATION, template=template, max_length=512)
    assert _trained_runs(llama3_tokenizer, out.input_ids, out.trained) == [
        f"{a}<|eot_id|>" for a in ANSWERS
    ]
    # No header, system or user text is trained.
    untrained = llama3_tokenizer.decode(
        [t for t, k in zip(out.input_ids, out.trained, strict=True) if not k],
        skip_special_tokens=False,
    )
    assert "What is 2 plus 3?" in untrained and "<|start_header_id|>assistant" in untrained


def test_template_from_a_file(tmp_path: Path, llama3_tokenizer: Any) -> None:
    path = tmp_path / "llama3.jinja"
    path.write_text(LLAMA3, encoding="utf-8")
    assert resolve_template(llama3_tokenizer, str(path)) == LLAMA3
    with pytest.raises(LtxError, match="does not exist"):
        resolve_template(llama3_tokenizer, str(tmp_path / "missing.jinja"))


def test_train_on_prompt_trains_everything(chat_tokenizer: Any) -> None:
    template = resolve_template(chat_tokenizer, None)
    out = render(
        chat_tokenizer, CONVERSATION, template=template, max_length=512, train_on_prompt=True
    )
    assert all(out.trained)


def test_truncation_keeps_whole_leading_turns(chat_tokenizer: Any) -> None:
    template = resolve_template(chat_tokenizer, None)
    whole = render(chat_tokenizer, CONVERSATION, template=template, max_length=512)
    second_end = whole.answers[1][1]
    out = render(chat_tokenizer, CONVERSATION, template=template, max_length=second_end + 2)
    assert out.truncated and out.answers_cut == 1
    assert len(out.input_ids) == second_end
    assert _trained_runs(chat_tokenizer, out.input_ids, out.trained) == [
        f"{a}<|im_end|>" for a in ANSWERS[:2]
    ]
    with pytest.raises(RenderProblem, match="beyond max_length 10"):
        render(chat_tokenizer, CONVERSATION, template=template, max_length=10)


def test_a_template_without_end_of_turn_token_is_refused(chat_tokenizer: Any) -> None:
    plain = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    with pytest.raises(RenderProblem, match="end-of-turn token"):
        render(chat_tokenizer, CONVERSATION, template=plain, max_length=512)


def test_checks_count_problems_and_show_the_first(chat_tokenizer: Any) -> None:
    rows = [
        {"messages": CONVERSATION},
        {"text": "not a chat"},
        {"prompt": "Hi", "completion": "Hello."},
        {"messages": [{"role": "user", "content": "no answer"}]},
    ]
    _, report = render_split(
        rows,
        chat_tokenizer,
        template=resolve_template(chat_tokenizer, None),
        max_length=512,
        train_on_prompt=False,
    )
    assert report["examples"] == 2 and report["records"] == 4
    assert report["problems"] == {"format": 2}
    assert report["first_problem"]["format"].startswith("record 2: it has none of the chat")


def _write(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_a_dataset_whose_answers_are_all_truncated_is_refused(ltx_cli: Any, tmp_path: Path) -> None:
    long = "many words " * 80
    rows = [
        {"messages": [{"role": "user", "content": long}, {"role": "assistant", "content": "ok"}]}
    ]
    train = _write(tmp_path / "train.jsonl", rows * 6)
    result = ltx_cli(
        "train",
        "chat",
        "--dataset",
        "chat-files",
        "--backbone",
        "tiny-llama",
        f"dataset.train_file={train}",
        "dataset.max_length=64",
        "trainer.accelerator=cpu",
    )
    assert result.exit_code == 2, result.output
    assert "No example of the training data" in result.output
    assert "truncation would cut it away" in result.output
    assert "Traceback" not in result.output
