"""``ltx test --ckpt`` on other data: the rebuilt dataset's hand-off must match the
checkpoint's. Another label set, or the same labels in another order, exits 2 with one
sentence saying what differs (for an order: set dataset.label_names to the checkpoint's
order) instead of scoring into a wrong number; the checkpoint's order scores. A
checkpoint in ltx 0.1's format still tests and predicts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FAST = [
    "--backbone", "tiny-bert", "--max-epochs", "1",
    "trainer.limit_train_batches=2", "trainer.limit_val_batches=1",
    "trainer.limit_test_batches=1", "trainer.num_sanity_val_steps=0",
    "dataset.batch_size=4", "task.export_hf=false",
]  # fmt: skip
ORDER_HINT = "set dataset.label_names to the checkpoint's order"


def _write(path: Path, rows: list[tuple[str, str]]) -> str:
    path.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def ckpt(tmp_path: Path, ltx_train: Callable[..., Any]) -> str:
    """A text classifier trained with the labels in the order ``pos``, ``neg`` (not the
    sorted one); its last checkpoint."""
    words = ["fine", "grand", "dull", "awful", "lovely", "bleak", "warm", "flat"]
    rows = [(f"a {w} film {i}", "pos" if n % 2 == 0 else "neg") for i in range(2)
            for n, w in enumerate(words)]  # fmt: skip
    train = _write(tmp_path / "train.csv", rows)
    run = ltx_train(
        "text-classification", "--dataset", "text-classification-files", *FAST,
        f"dataset.train_file={train}", f"dataset.test_file={train}",
        "dataset.label_names=[pos, neg]", output_dir=tmp_path / "run",
    )  # fmt: skip
    return str(run.checkpoint)


@pytest.fixture
def score(ltx_cli: Callable[..., Any]) -> Callable[..., Any]:
    """``score(ckpt, *overrides)``: ``ltx test --ckpt CKPT --json`` in this process."""

    def test(ckpt: str, *overrides: str) -> Any:
        return ltx_cli("test", "--ckpt", ckpt, "--json", *overrides)

    return test


def _refusal(result: Any) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return " ".join(result.stderr.split())  # the console wraps the sentence


def test_other_labels_are_refused_and_the_checkpoint_order_scores(
    tmp_path: Path, ckpt: str, score: Callable[..., Any]
) -> None:
    # A label the checkpoint never saw: outside its label names, or another label set.
    other = _write(tmp_path / "other.csv", [("a so-so film", "meh"), ("a fine film", "pos")])
    text = _refusal(score(ckpt, f"dataset.test_file={other}"))
    assert "has the label 'meh', which dataset.label_names does not list" in text
    text = _refusal(
        score(ckpt, f"dataset.test_file={other}", "dataset.label_names=[pos, neg, meh]")
    )
    assert "its data differs from the training data" in text
    assert "'num_labels' is 2 in the checkpoint but 3 here" in text

    # The same labels in another order: learnt sorted (neg, pos) without label names, or
    # named so.
    same = _write(tmp_path / "same.csv", [("a grand film", "pos"), ("a bleak film", "neg")])
    for names in ("null", "[neg, pos]"):
        text = _refusal(score(ckpt, f"dataset.test_file={same}", f"dataset.label_names={names}"))
        assert "same labels in another order" in text and ORDER_HINT in text, text

    scored = score(ckpt, f"dataset.test_file={same}", "dataset.label_names=[pos, neg]")
    assert scored.exit_code == 0, scored.output
    assert "test_acc" in json.loads(scored.stdout)


def test_a_checkpoint_of_ltx_0_1_tests_and_predicts(
    tmp_path: Path, ckpt: str, score: Callable[..., Any], ltx_cli: Callable[..., Any]
) -> None:
    """ltx 0.1 saved one ``info`` dict: the hand-off with the model's config (``hf_config``)
    and the task's head inside; the backbone is rebuilt from it, without the Hub."""
    import torch

    saved = torch.load(ckpt, map_location="cpu", weights_only=True)
    meta = saved["ltx"]
    info = {**meta["handoff"], **meta["backbone_state"], "head": "sequence-classification"}
    saved["ltx"] = {"config": meta["config"], "info": info}
    old = tmp_path / "old.ckpt"
    torch.save(saved, old)
    tested = score(str(old))
    assert tested.exit_code == 0, tested.output
    assert "test_acc" in json.loads(tested.stdout)
    predicted = ltx_cli("predict", "--ckpt", str(old), "a fine film")
    assert predicted.exit_code == 0, predicted.output
    assert json.loads(predicted.stdout.strip().splitlines()[-1])["label"] in {"pos", "neg"}
