"""The record-source walk-through (``docs/extending-a-task.md``): its code blocks, run in
order from an empty folder, give a dataset plugin that trains and tests a task of
ltx-nlp-hf from a SQLite table."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from .test_docs import BIN, ROOT, docs_env, guide_steps

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
    work, site = tmp_path / "work", tmp_path / "site"
    work.mkdir()
    env = docs_env(tmp_path, PYTHONPATH=str(site))
    for kind, step in page_steps():
        if kind == "file":
            path, _, content = step.partition("\n")
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            (work / path).write_text(content, encoding="utf-8")
            continue
        argv = shlex.split(step)
        if argv[:3] == ["pip", "install", "-e"]:
            # The same install, into a folder of its own so the test leaves the env as it was.
            argv = [str(BIN / "python"), "-m", "pip", "install", "-q", "--no-deps",
                    "--no-build-isolation", "--target", str(site), argv[3]]  # fmt: skip
        proc = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{step}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        if argv[:2] == ["ltx", "list"]:
            assert "sqlite-reviews" in proc.stdout
        if argv[:2] == ["ltx", "config"]:
            assert "database: reviews.db" in proc.stdout and "train_file" not in proc.stdout
    run = work / "reviews-run"
    assert (run / "summary.json").is_file()
    exported = json.loads(
        (run / "artifacts" / "hf_model" / "config.json").read_text(encoding="utf-8")
    )
    assert sorted(exported["id2label"].values()) == ["negative", "positive"]
