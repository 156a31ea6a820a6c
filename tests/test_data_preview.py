"""``ltx data preview``: examples as the model will see them and the split's statistics,
driven through the command line as a user does — the generic default on text
classification, seq2seq, language modelling and images, a task's own hook, every
registered task's smoke preset, the user's mistakes (one sentence, exit 2), a torch-free
``--help``, and ``docs/data-preview.md`` word for word."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ltx_core import registry
from ltx_core.cli.testing import HEAVY

from .conftest import example_registered
from .test_docs import FENCE, ROOT, docs_env

PAGE = ROOT / "docs" / "data-preview.md"
SST2 = ("text-classification", "--dataset", "sst2-sample", "--backbone", "tiny-bert")
# Enough examples for the statistics, few enough to tokenise in a blink.
SMALL = "dataset.limit_train_samples=64"


def preview_json(ltx_cli: Any, *args: str) -> dict[str, Any]:
    """``ltx data preview ARGS --json``: the one JSON document on standard output."""
    result = ltx_cli("data", "preview", *args, "--json")
    assert result.exit_code == 0, result.output[-3000:]
    payload = json.loads(result.stdout)  # nothing but the document on stdout
    assert set(payload) >= {"task", "dataset", "split", "examples", "stats"}
    for ex in payload["examples"]:
        assert isinstance(ex["text"], str)
        assert isinstance(ex["tokens"], list) and all(isinstance(t, str) for t in ex["tokens"])
        if "trained" in ex:
            assert len(ex["trained"]) == len(ex["tokens"])
            assert all(isinstance(t, bool) for t in ex["trained"])
    json.dumps(payload)
    return payload


def test_text_classification_examples_labels_and_truncation(ltx_cli) -> None:
    payload = preview_json(ltx_cli, *SST2, SMALL, "-n", "2")
    assert payload["task"] == "nlp-hf:text-classification"
    assert payload["dataset"] == "nlp-hf:sst2-sample"
    assert payload["split"] == "train"
    examples, stats = payload["examples"], payload["stats"]
    assert [ex["index"] for ex in examples] == [0, 1]
    for ex in examples:
        # Decoded with the run's tokenizer, special tokens as the model sees them.
        assert ex["tokens"][0] == "[CLS]" and ex["tokens"][-1] == "[SEP]"
        assert ex["text"].startswith("[CLS] ")
        assert ex["length"] == len(ex["tokens"])
        assert ex["label"] in {"negative", "positive"}  # named from the hand-off
        assert ex["label_id"] == ["negative", "positive"].index(ex["label"])
    assert stats["examples"] == stats["scanned"] == 64
    assert stats["max_length"] == 64  # the task's default dataset.max_length
    assert 0.0 <= stats["truncation_rate"] <= 1.0
    assert set(stats["labels"]) == {"negative", "positive"}
    assert sum(stats["labels"].values()) == 64
    assert stats["length"]["min"] <= stats["length"]["mean"] <= stats["length"]["max"] <= 64
    assert sum(b["count"] for b in stats["length_histogram"]) == 64

    # The configured maximum is the one counted: cut short, most examples reach it.
    cut = preview_json(ltx_cli, *SST2, SMALL, "dataset.max_length=8", "-n", "1")["stats"]
    assert cut["max_length"] == 8 and cut["length"]["max"] == 8
    assert cut["at_max_length"] > 0
    assert cut["truncation_rate"] == round(cut["at_max_length"] / 64, 4)


def test_human_output_shows_examples_and_statistics(ltx_cli) -> None:
    result = ltx_cli("data", "preview", *SST2, SMALL, "--split", "validation", "-n", "1")
    assert result.exit_code == 0, result.output[-3000:]
    out = result.stdout
    assert out.startswith(
        "nlp-hf:text-classification · nlp-hf:sst2-sample · split 'validation': its first example"
    )
    assert re.search(r"^#0 · label: (negative|positive) · \d+ tokens$", out, re.M)
    assert re.search(r"^    text    \[CLS\] .* \[SEP\]$", out, re.M)
    assert "Statistics of all 500 examples" in out
    assert re.search(r"^  truncation rate +.*reach max_length 64$", out, re.M)
    assert re.search(r"^    (negative|positive) +\d+ +\d+\.\d%", out, re.M)


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (("summarization", "--dataset", "xsum-sample", "--backbone", "tiny-t5",
          "dataset.max_target_length=16"), "target"),
        (("translation", "--dataset", "wmt16-sample", "--backbone", "tiny-t5",
          "dataset.max_target_length=32"), "target"),
        (("language-modeling", "--dataset", "wiki-sample", "--backbone", "tiny-gpt2",
          "dataset.max_length=64"), None),
    ],
    ids=["summarization", "translation", "language-modeling"],
)  # fmt: skip
def test_sequence_tasks(ltx_cli, args: tuple[str, ...], key: str | None) -> None:
    payload = preview_json(ltx_cli, *args, "-n", "2")
    stats = payload["stats"]
    assert len(payload["examples"]) == 2
    for ex in payload["examples"]:
        assert ex["tokens"] and ex["text"]
        if key == "target":  # the target sequence decoded, -100 positions left out
            assert isinstance(ex["target"], str) and ex["target"]
            assert ex["target_tokens"] and "-100" not in ex["target_tokens"]
    if key == "target":
        first = payload["examples"][0]["text"]
        assert "summarize" in first or "translate" in first  # the prefix the model sees
        assert stats["max_target_length"] in (16, 32)
        assert stats["target_length"]["max"] <= stats["max_target_length"]
        assert 0.0 <= stats["target_truncation_rate"] <= 1.0
    else:  # text grouped into blocks of exactly max_length tokens
        assert stats["length"]["min"] == stats["length"]["max"] == 64
        assert stats["truncation_rate"] == 1.0


def test_summarization_targets_cut_short_are_counted(ltx_cli) -> None:
    stats = preview_json(
        ltx_cli, "summarization", "--dataset", "xsum-sample", "--backbone", "tiny-t5",
        "dataset.max_target_length=8", "-n", "0",
    )["stats"]  # fmt: skip
    assert stats["targets_at_max_length"] == stats["scanned"] > 0
    assert stats["target_truncation_rate"] == 1.0


def test_token_classification_marks_the_tagged_tokens(ltx_cli) -> None:
    payload = preview_json(
        ltx_cli, "token-classification", "--dataset", "conll-sample", "--backbone", "tiny-bert",
        "--split", "test", "-n", "3",
    )  # fmt: skip
    tagged = [ex for ex in payload["examples"] if ex["token_labels"]]
    assert tagged
    for ex in tagged:
        trained = [t for t, on in zip(ex["tokens"], ex["trained"], strict=True) if on]
        assert trained == [p["token"] for p in ex["token_labels"]]
        assert not ex["trained"][0] and not ex["trained"][-1]  # [CLS], [SEP]: -100
    names = set(payload["stats"]["labels"])
    assert "O" in names and names <= {"O", "B-LOC", "B-ORG", "B-PER", "I-LOC", "I-PER", "B-MISC",
                                      "I-MISC", "I-ORG"}  # fmt: skip


def test_images_are_described_by_shape_and_class(ltx_cli) -> None:
    payload = preview_json(ltx_cli, "igpt", "--dataset", "digits", "--split", "test", "-n", "2")
    for ex in payload["examples"]:
        assert ex["tokens"] == []  # pixels are not tokens until the model quantises them
        assert ex["shape"] == [1, 8, 8]
        assert ex["text"].startswith("<") and "1×8×8" in ex["text"]
        assert ex["label"] in [str(d) for d in range(10)]
    stats = payload["stats"]
    assert stats["length"] is None and stats["truncation_rate"] is None
    assert sum(stats["labels"].values()) == stats["scanned"] == stats["examples"] > 0
    assert stats["shapes"] == {"1×8×8": stats["examples"]}


def _task_names() -> list[str]:
    with example_registered():
        return [spec.qualified_name for spec in registry.get_registry().components("task")]


@pytest.mark.parametrize("task", _task_names())
def test_every_registered_task_previews_its_smoke_data(
    task: str, example_plugin: None, ltx_cli, tmp_path: Path
) -> None:
    """The generic default works on every task's data as the registry has it: one
    example of its smoke preset, with text, tokens and the split's size."""
    spec = registry.get_registry().task(task)
    smoke = tmp_path / "smoke.yaml"
    smoke.write_text(yaml.safe_dump(spec.smoke), encoding="utf-8")
    payload = preview_json(ltx_cli, task, "--config", str(smoke), "-n", "1")
    assert payload["task"] == spec.qualified_name
    (example,) = payload["examples"]
    assert example["index"] == 0
    assert example["text"]
    assert payload["stats"]["scanned"] > 0


def test_a_task_hook_overrides_the_default(example_plugin: None, ltx_cli, monkeypatch) -> None:
    from ltx_toy.task import SumTask

    from ltx_core.preview import DataPreview

    seen: dict[str, Any] = {}

    def preview(cls: type, datamodule: Any, split: str, limit: int, *, handoff: Any) -> Any:
        seen.update(cls=cls, split=split, limit=limit, handoff=handoff)
        shown = super(SumTask, cls).preview(datamodule, split, limit, handoff=handoff)
        for ex in shown.examples:  # the first half of each sequence "trained"
            ex["trained"] = [i < len(ex["tokens"]) // 2 for i in range(len(ex["tokens"]))]
        shown.notes.append("packed: 1 example per row")
        assert isinstance(shown, DataPreview)
        return shown

    monkeypatch.setattr(SumTask, "preview", classmethod(preview))
    payload = preview_json(ltx_cli, "toy-classify", "--split", "validation", "-n", "2")
    assert seen["cls"] is SumTask and seen["split"] == "validation" and seen["limit"] == 2
    assert type(seen["handoff"]).__name__ == "SumSequences"  # as the task declares it
    assert payload["notes"] == ["packed: 1 example per row"]
    ex = payload["examples"][0]
    assert ex["tokens"] == ex["text"].split()  # no tokenizer: the ids themselves
    assert ex["trained"][0] and not ex["trained"][-1]
    human = ltx_cli("data", "preview", "toy-classify", "-n", "1")
    assert human.exit_code == 0, human.output
    assert "«" in human.stdout and "«token»: the loss covers this token." in human.stdout
    assert human.stdout.rstrip().endswith("packed: 1 example per row")

    monkeypatch.setattr(SumTask, "preview", classmethod(lambda cls, *a, **k: {"examples": []}))
    bad = ltx_cli("data", "preview", "toy-classify")
    assert bad.exit_code == 2
    assert "returned a dict from preview(); it must return a DataPreview." in bad.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((*SST2, SMALL, "--split", "val"),
         "Error: The dataset 'sst2-sample' has no 'val' split; it has: train, validation, "
         "test. Did you mean 'validation'?"),
        (("toy-classify", "--split", "predict"),
         "Error: The dataset 'toy-sequences' has no 'predict' split; it has: train, "
         "validation, test."),
        ((*SST2, "-n", "-1"), "-1 is not in the range x>=0"),
        (("no-such-task",), "Unknown task 'no-such-task'"),
        ((), "No task given"),
    ],
    ids=["misspelt-split", "missing-split", "negative-n", "unknown-task", "no-task"],
)  # fmt: skip
def test_mistakes_are_one_sentence_and_exit_2(
    example_plugin: None, ltx_cli, args: tuple[str, ...], message: str
) -> None:
    result = ltx_cli("data", "preview", *args)
    assert result.exit_code == 2, result.output[-2000:]
    assert message in result.stderr
    # One line, no traceback (a dataset's loading messages may come before it).
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert "Traceback" not in result.output
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args", [["--help"], ["data", "--help"], ["data", "preview", "--help"]], ids=" ".join
)
def test_help_imports_no_torch(ltx_probe, args: list[str]) -> None:
    probe = ltx_probe(*args, watch=HEAVY)
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.imported == []
    if args == ["--help"]:
        assert re.search(r"^  data +Look at a run's data", probe.stdout, re.M)


# -- docs/data-preview.md, word for word ------------------------------------------------


def page_blocks() -> list[tuple[str, str]]:
    """``(language, body)`` of the page's bash and python blocks, in order."""
    text = PAGE.read_text(encoding="utf-8")
    return [(lang, body) for _, lang, body in FENCE.findall(text) if lang in ("bash", "python")]


def test_page_is_in_the_nav() -> None:
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    pages = [v for item in nav for v in item.values() if isinstance(v, str)]
    assert "data-preview.md" in pages


@pytest.mark.slow  # fresh processes, as the page's reader runs them
def test_page_word_for_word(tmp_path: Path) -> None:
    env = docs_env(tmp_path)
    commands = 0
    for lang, body in page_blocks():
        if lang == "python":  # the override's example defines a working subclass
            argv = [sys.executable, "-c", body + "\nassert MyTask.preview.__self__ is MyTask\n"]
            done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=300)  # fmt: skip
            assert done.returncode == 0, done.stderr[-3000:]
            continue
        for step in (line for line in body.splitlines() if line.strip()):
            argv = shlex.split(step)
            assert argv[:3] == ["ltx", "data", "preview"], step
            done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=600)  # fmt: skip
            assert done.returncode == 0, f"{step}\n{done.stderr[-3000:]}"
            assert "Traceback" not in done.stderr
            commands += 1
            if "--json" in argv:
                payload = json.loads(done.stdout)
                (ex,) = payload["examples"]
                # What the page shows of its output.
                assert ex["tokens"][:3] == ["[CLS]", "it", "'"]
                assert ex["label"] == "positive"
                assert payload["stats"]["examples"] == 872
                assert payload["stats"]["labels"] == {"negative": 428, "positive": 444}
            elif "-n 2" in step:
                assert "#0 · label: positive · 7 tokens" in done.stdout
                assert "truncation rate" in done.stdout
            elif "-n 0" in step:
                assert "#0" not in done.stdout and "reach max_length 16" in done.stdout
    assert commands == 4
