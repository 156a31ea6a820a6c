"""The sweeps page (``docs/sweeps.md``): its files and commands, run in order from an empty
folder with this environment's ``ltx`` first on ``PATH``, sweep igpt on the digits, list
the trials, compare two and check the best config."""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ltx_core.cli.testing import ltx_process_env

ROOT = Path(__file__).resolve().parents[3]
PAGE = ROOT / "docs" / "sweeps.md"
# A fence of three or more backticks, closed by the same run on a line of its own.
FENCE = re.compile(r"^(`{3,})(\w+)\n(.*?)^\1$", re.M | re.S)


def page_steps() -> list[tuple[str, str]]:
    """``("file", path+content)`` or ``("bash", command)`` in the page's order."""
    steps: list[tuple[str, str]] = []
    for _fence, lang, body in FENCE.findall(PAGE.read_text(encoding="utf-8")):
        first, _, rest = body.partition("\n")
        if first.startswith("# file: "):
            steps.append(("file", first.removeprefix("# file: ").strip() + "\n" + rest))
        elif lang == "bash":
            steps.extend(("bash", line) for line in body.splitlines() if line.strip())
    return steps


def test_page_has_every_piece_and_its_pictures() -> None:
    steps = page_steps()
    files = [s.split("\n", 1)[0] for kind, s in steps if kind == "file"]
    assert files == ["space.yaml", "tiny.yaml"]
    commands = [s.split()[:2] for kind, s in steps if kind == "bash"]
    assert ["ltx", "sweep"] in commands and ["ltx", "runs"] in commands
    assert ["ltx", "compare"] in commands and ["ltx", "config"] in commands
    assert "sweeps.md" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "pip install ltx-sweep" in PAGE.read_text(encoding="utf-8")
    from matplotlib import image

    for name in ("sweep-compare.png", "sweep-history.png"):
        assert f"img/{name}" in PAGE.read_text(encoding="utf-8")
        pixels = image.imread(ROOT / "docs" / "img" / name)
        assert pixels.shape[0] > 200 and float(pixels.std()) > 0


@pytest.mark.slow
def test_page_word_for_word(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    # As a reader's shell has it (LTX_CACHE_DIR is the test session's, from ltx_env).
    env = ltx_process_env(
        {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    )
    outputs = {}
    for kind, step in page_steps():
        if kind == "file":
            path, _, content = step.partition("\n")
            (work / path).write_text(content, encoding="utf-8")
            continue
        proc = subprocess.run(
            shlex.split(step), cwd=work, env=env, capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0, f"{step}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        outputs[step] = proc.stdout
    sweep = work / "runs" / "sweep-digits"
    with (sweep / "trials.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["number"] for r in rows] == ["0", "1", "2", "3"]
    assert all(r["state"] in ("complete", "pruned") for r in rows)

    def output(prefix: str) -> str:
        return next(out for step, out in outputs.items() if step.startswith(prefix))

    assert "Best: trial" in output("ltx sweep")
    listed = output("ltx runs runs/sweep-digits --sort").splitlines()[2:]
    assert sorted(line.split()[0] for line in listed) == [f"trials/{n}" for n in range(4)]
    picked = json.loads(output("ltx runs runs --filter"))
    for record in picked:  # what the filters asked for
        assert record["metrics"]["val_loss"] < 5.0
        assert "n_embd: 32" in (work / record["path"] / "config.yaml").read_text()
    assert "name: igpt" in output("ltx config")
    assert (work / "compare.png").stat().st_size > 10_000
    assert (sweep / "plots" / "optimization_history.png").is_file()
