"""The performance page (``docs/performance.md``): its commands, run in order from an
empty folder, train with ``--precision auto`` and activation checkpointing, fine-tune
with LoRA, test the LoRA checkpoint, and each summary reports what the page says."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from .test_docs import ROOT, docs_env, guide_steps

PAGE = ROOT / "docs" / "performance.md"


def test_page_lists_every_lever() -> None:
    text = PAGE.read_text(encoding="utf-8")
    for lever in ("--precision auto", "backbone.peft", "gradient_checkpointing",
                  "trainer.compile", "mfu", "bench_perf.py"):  # fmt: skip
        assert lever in text, lever
    commands = [s for kind, s in guide_steps(PAGE) if kind == "bash"]
    assert commands and all(c.startswith("ltx ") for c in commands), commands


@pytest.mark.slow
def test_page_word_for_word(tmp_path: Path) -> None:
    env = docs_env(tmp_path)
    for kind, step in guide_steps(PAGE):
        assert kind == "bash"
        proc = subprocess.run(
            shlex.split(step), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0, f"{step}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    fast = json.loads((tmp_path / "runs" / "fast" / "summary.json").read_text())
    assert fast["precision"] in ("bf16-mixed", "32-true")
    assert 0 < fast["throughput"]["mfu"] <= 1
    lora = json.loads((tmp_path / "runs" / "lora" / "summary.json").read_text())
    assert lora["trainable_params"] < 0.01 * lora["total_params"]
