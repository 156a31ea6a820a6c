"""The README's first commands run exactly as printed, from an empty folder (the last two
fine-tune the real SmolLM2-135M-Instruct and ask it a question)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"<!-- first-five:start -->\s*```bash\n(.*?)```\s*<!-- first-five:end -->", re.S)


def first_five() -> str:
    match = BLOCK.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md lost its first-five block"
    return match.group(1)


def test_block_starts_with_ltx_list() -> None:
    lines = [line for line in first_five().splitlines() if line.strip()]
    assert lines[0] == "ltx list"
    assert sum(line.startswith("ltx ") for line in lines) == 7


@pytest.mark.slow
def test_first_five_commands_as_printed(tmp_path: Path) -> None:
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("LTX_RUN_DIR", None)
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", first_five()],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "igpt" in proc.stdout  # ltx list
    assert (tmp_path / "runs" / "digits" / "summary.json").is_file()
    assert (tmp_path / "runs" / "reviews" / "checkpoints" / "last.ckpt").is_file()
    assert "test_acc" in proc.stdout
    assert proc.stdout.count('"input"') >= 2  # two predictions
    assert (tmp_path / "runs" / "chat" / "summary.json").is_file()
    assert '"completion"' in proc.stdout  # the chat model's answer
