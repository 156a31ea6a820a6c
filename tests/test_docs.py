"""The documentation: the site (with the API page mkdocstrings generates from the
docstrings) builds with warnings as errors, and the plugin guide's code blocks, run in
order from an empty folder, give a working plugin."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ltx_core.cli.testing import probe_python

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "plugin-guide.md"
BIN = Path(sys.executable).parent
# A fence of three or more backticks, closed by the same run on a line of its own (the
# README's block holds a ```bash block, so the guide fences it with four).
FENCE = re.compile(r"^(`{3,})(\w+)\n(.*?)^\1$", re.M | re.S)


def docs_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment a docs page's commands run in, as a reader's shell would have it:
    this venv's ``ltx`` first on PATH, hubs offline, a cache of the test's own, and no
    run directory inherited from the test process; ``extra`` adds or overrides."""
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "LTX_CACHE_DIR": str(tmp_path / "cache"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        **extra,
    }
    env.pop("LTX_RUN_DIR", None)
    return env


def guide_steps(page: Path = GUIDE) -> list[tuple[str, str]]:
    """``("file", path+content)`` or ``("bash", command)`` in a docs page's order."""
    steps: list[tuple[str, str]] = []
    for _fence, lang, body in FENCE.findall(page.read_text(encoding="utf-8")):
        first, _, rest = body.partition("\n")
        if first.startswith("# file: "):
            steps.append(("file", first.removeprefix("# file: ").strip() + "\n" + rest))
        elif lang == "bash":
            steps.extend(("bash", line) for line in body.splitlines() if line.strip())
    return steps


def test_guide_has_every_piece() -> None:
    files = [s.split("\n", 1)[0] for kind, s in guide_steps() if kind == "file"]
    for piece in ("pyproject.toml", "config.py", "data.py", "model.py", "task.py", "plugin.py",
                  "tests/test_ltx_sums.py"):  # fmt: skip
        assert any(f.endswith(piece) for f in files), piece
    # "Add a command": a plugin of its own that registers a command.
    assert "ltx-summary/src/ltx_summary/plugin.py" in files
    assert ("bash", "ltx summary sums-run --prefix test_") in guide_steps()


def run_steps(
    steps: list[tuple[str, str]], tmp_path: Path
) -> Iterator[tuple[list[str], subprocess.CompletedProcess[str]]]:
    """Carry out a page's steps in ``tmp_path / "work"`` as its reader would: write each
    file, run each command (in :func:`docs_env`), asserting it succeeds; yields each
    command's argv and outcome to check. ``pip install -e`` installs into a folder of the
    test instead, on the commands' PYTHONPATH, so the test leaves the environment as it
    was; ``pytest`` runs this interpreter's."""
    work, site = tmp_path / "work", tmp_path / "site"
    work.mkdir()
    env = docs_env(tmp_path, PYTHONPATH=str(site))
    for kind, step in steps:
        if kind == "file":
            path, _, content = step.partition("\n")
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            (work / path).write_text(content, encoding="utf-8")
            continue
        argv = shlex.split(step)
        run = argv
        if argv[:3] == ["pip", "install", "-e"]:
            run = [str(BIN / "python"), "-m", "pip", "install", "-q", "--no-deps",
                   "--no-build-isolation", "--target", str(site), argv[3]]  # fmt: skip
        elif argv[0] == "pytest":
            run = [str(BIN / "python"), "-m", "pytest", "-p", "no:cacheprovider", *argv[1:]]
        proc = subprocess.run(run, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{step}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        yield argv, proc


@pytest.mark.slow
def test_guide_word_for_word(tmp_path: Path) -> None:
    for argv, proc in run_steps(guide_steps(), tmp_path):
        if argv[:2] == ["ltx", "list"]:
            assert "sums-classify" in proc.stdout
        if argv == ["ltx", "--help"]:  # the command plugin's line, its module not imported
            assert "summary  A run's final metrics." in proc.stdout
        if argv[:2] == ["ltx", "summary"]:
            lines = proc.stdout.splitlines()
            assert lines and all(line.startswith("test_") for line in lines), proc.stdout
    assert (tmp_path / "work" / "sums-run" / "summary.json").is_file()


# The build in a fresh process, reporting which heavy modules it imported: the reference
# pages come from the Typer app, the pydantic models and (statically, via griffe) the
# docstrings, so building the docs needs neither torch nor a GPU.
BUILD = """
import sys
from mkdocs.commands.build import build
from mkdocs.config import load_config
build(load_config(strict=True, site_dir=sys.argv[1]))
"""


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path: Path) -> None:
    proc = probe_python(BUILD, str(tmp_path / "site"), cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.imported == [], proc.imported
    cli = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text()
    assert "ltx train" in cli and "--gpus" in cli
    assert "max_epochs" in (tmp_path / "site" / "reference" / "config" / "index.html").read_text()
    # mkdocstrings ran: the plugin-facing API is on the page, from the docstrings.
    api = (tmp_path / "site" / "reference" / "api" / "index.html").read_text()
    for anchor in ("ltx_core.registry.hookspecs.register_tasks", "ltx_core.registry.hookspecs.RegisterTask.__call__",
                   "ltx_core.registry.spec.TaskSpec", "ltx_core.config.models.DataConfig",
                   "ltx_core.data.LtxDataModule.load_splits", "ltx_core.task.LtxTask.predict_batch",
                   "ltx_core.errors.LtxError", "ltx_core.authoring.conformance.conformance_cases"):  # fmt: skip
        assert f'id="{anchor}"' in api, anchor
    assert ":class:" not in api  # the hook renders Sphinx roles as code
