"""``docs/chat.md`` word for word: every ``bash`` block of the page, in order, from an
empty folder (SFT, preference tuning, predict, chat, serve to the OpenAI client, export),
and what they print checked against what the page says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PAGE = ROOT / "docs" / "chat.md"
FENCE = re.compile(r"^(`{3,})(\w+)\n(.*?)^\1$", re.M | re.S)


def bash_blocks() -> list[str]:
    return [body for _, lang, body in FENCE.findall(PAGE.read_text("utf-8")) if lang == "bash"]


def test_page_has_every_step() -> None:
    joined = "\n".join(bash_blocks())
    for piece in ("ltx data preview chat", "ltx train chat", "ltx train preference",
                  "ltx predict --ckpt", "ltx chat --ckpt", "ltx serve --ckpt",
                  "chat.completions.create", 'pipeline("text-generation"'):  # fmt: skip
        assert piece in joined, piece


@pytest.mark.slow
def test_chat_page_word_for_word(tmp_path: Path) -> None:
    pytest.importorskip("openai")
    pytest.importorskip("ltx_serve")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "LTX_CACHE_DIR": str(tmp_path / "cache"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    env.pop("LTX_RUN_DIR", None)
    printed = []
    for body in bash_blocks():
        done = subprocess.run(
            ["bash", "-e", "-c", body], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=900,
        )  # fmt: skip
        assert done.returncode == 0, f"{body}\n---\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        printed.append(done.stdout)
    out = "\n".join(printed)
    assert "test_exact_match" in out and "test_rougeL" in out
    assert '"completion"' in out  # ltx predict's rows
    assert '[{"role": "user", "content": "What is 2 plus 3?"}' in out  # /history in ltx chat
    assert "answer: '" in out  # the OpenAI client's reply
    assert "'role': 'assistant'" in out  # the export through transformers.pipeline
    assert (tmp_path / "dpo" / "summary.json").is_file()
