"""``docs/using-a-model.md``, its "Predicting" section word for word: the page's opening
training command, then every ``bash`` line of the section (through ``bash``, so the
page's pipes and redirections run as written) and its Python example, in order, from an
empty folder; then what they printed is checked against what the page says they print.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .test_docs import FENCE, ROOT, docs_env

PAGE = ROOT / "docs" / "using-a-model.md"
SECTION = "Predicting"


def section_blocks(page: Path = PAGE) -> list[tuple[str, str]]:
    """``(language, body)`` of the opening's bash blocks and the section's bash and
    python blocks, in page order."""
    text = page.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.M)
    ours = [p for p in parts[1:] if p.split("\n", 1)[0].strip() == SECTION]
    assert len(ours) == 1, "the page has one Predicting section"
    blocks = [("bash", body) for _, lang, body in FENCE.findall(parts[0]) if lang == "bash"]
    blocks += [
        (lang, body) for _, lang, body in FENCE.findall(ours[0]) if lang in ("bash", "python")
    ]
    return blocks


def test_section_has_every_step() -> None:
    steps = [
        line for lang, body in section_blocks() if lang == "bash" for line in body.splitlines()
    ]
    assert steps[0].startswith("ltx train ")
    joined = "\n".join(steps)
    for piece in ("--input reviews.csv", "--keep-columns", "--output predictions.csv",
                  "--input -", "--set return_all_scores=true", "ltx info text-classification"):  # fmt: skip
        assert piece in joined, piece
    assert any(lang == "python" for lang, _ in section_blocks())


@pytest.mark.slow
def test_predicting_section_word_for_word(tmp_path: Path) -> None:
    env = docs_env(tmp_path, OMP_WAIT_POLICY="PASSIVE")
    outputs: list[tuple[str, str]] = []
    for lang, body in section_blocks():
        if lang == "python":
            argv = [sys.executable, "-c", body]
            done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=600)  # fmt: skip
            assert done.returncode == 0, done.stderr[-3000:]
            outputs.append(("python", done.stdout))
            continue
        for step in (line for line in body.splitlines() if line.strip()):
            done = subprocess.run(["bash", "-c", step], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=600)  # fmt: skip
            assert done.returncode == 0, f"{step}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            assert "Traceback" not in done.stderr
            outputs.append((step, done.stdout))

    said = dict(outputs)

    def rows(key: str) -> list[dict]:
        out = next(v for k, v in said.items() if key in k)
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    args = rows('"a gripping, beautifully acted film" "a dull mess"')
    assert [r["input"] for r in args] == ["a gripping, beautifully acted film", "a dull mess"]
    assert all(r["label"] in {"negative", "positive"} and 0.5 <= r["score"] <= 1 for r in args)
    table = list(csv.DictReader(io.StringIO(said["cat predictions.csv"])))
    assert [r["id"] for r in table] == ["1", "2", "3"]
    assert list(table[0]) == ["id", "input", "label", "score"]
    assert [r["input"] for r in rows("--input -")] == ["a gripping film", "a dull mess"]
    (scored,) = rows("--set return_all_scores=true")
    assert set(scored["scores"]) == {"negative", "positive"}
    assert "return_all_scores" in said["ltx info text-classification"]
    printed = said["python"].splitlines()
    assert printed[-1] == "['negative', 'positive']" and "'label'" in printed[0]
    # The page's sample outputs are this model's: the same labels as the run printed.
    text = PAGE.read_text(encoding="utf-8")
    for r in [*args, *table]:
        assert f'"{r["input"]}", "label": "{r["label"]}"' in text or (
            f"{r['input']},{r['label']}," in text
        ), r
