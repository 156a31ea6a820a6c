"""The record-source walk-through (``docs/extending-a-task.md``): its code blocks, run in
order from an empty folder, give a dataset plugin that trains and tests a task of
ltx-nlp-hf from a SQLite table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .test_docs import ROOT, guide_steps, run_steps

PAGE = ROOT / "docs" / "extending-a-task.md"


def page_steps(page: Path = PAGE) -> list[tuple[str, str]]:
    """The page's steps, parsed as the plugin guide's are."""
    return guide_steps(page)


def test_page_has_every_piece() -> None:
    files = [s.split("\n", 1)[0] for kind, s in page_steps() if kind == "file"]
    for piece in ("pyproject.toml", "plugin.py", "source.py", "config.py", "make_db.py"):
        assert any(f.endswith(piece) for f in files), piece
    commands = [s for kind, s in page_steps() if kind == "bash"]
    assert any(c.startswith("ltx test --ckpt") for c in commands)
    assert "/work/shared" not in PAGE.read_text(encoding="utf-8")


@pytest.mark.slow
def test_page_word_for_word(tmp_path: Path) -> None:
    for argv, proc in run_steps(page_steps(), tmp_path):
        if argv[:2] == ["ltx", "list"]:
            assert "sqlite-reviews" in proc.stdout
        if argv[:2] == ["ltx", "config"]:
            assert "database: reviews.db" in proc.stdout and "train_file" not in proc.stdout
    run = tmp_path / "work" / "reviews-run"
    assert (run / "summary.json").is_file()
    exported = json.loads(
        (run / "artifacts" / "hf_model" / "config.json").read_text(encoding="utf-8")
    )
    assert sorted(exported["id2label"].values()) == ["negative", "positive"]
