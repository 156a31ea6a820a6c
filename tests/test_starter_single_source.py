"""One starter plugin: the scaffold's templates are the source, and the repository's two
rendered copies of them (``tests/example_plugin`` and the plugin guide's code blocks)
must equal what ``ltx new plugin NAME --task TASK`` writes. A change to the core's plugin API is made in
the templates; these tests then say which command brings the copies along."""

from __future__ import annotations

import difflib
from pathlib import Path

from ltx_core.authoring.maintenance import (
    EXAMPLE_NAME,
    EXAMPLE_TASK,
    GUIDE_NAME,
    GUIDE_TASK,
    guide_files,
    refresh_guide,
)
from ltx_core.authoring.scaffold import new_plugin, render_plugin

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "example_plugin"
GUIDE = ROOT / "docs" / "plugin-guide.md"
# What pip and Python leave in a source folder they build or import from (git ignores them).
BUILD_LEFTOVERS = ("build", "__pycache__", ".pytest_cache")
REFRESH = "python -m ltx_core.authoring.maintenance --refresh-example --refresh-guide"


def _tree(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and not any(
            part in BUILD_LEFTOVERS or part.endswith(".egg-info")
            for part in path.relative_to(root).parts
        )
    }


def _diff(expected: str, actual: str, name: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(keepends=True), actual.splitlines(keepends=True),
        f"{name} (from the templates)", f"{name} (in the repository)",
    )  # fmt: skip
    return "".join(lines)[:3000]


def test_example_plugin_is_the_scaffold_output(tmp_path: Path) -> None:
    made = _tree(new_plugin(EXAMPLE_NAME, tmp_path, task=EXAMPLE_TASK))
    have = _tree(EXAMPLE)
    hint = (
        f"tests/example_plugin is not 'ltx new plugin {EXAMPLE_NAME} --task {EXAMPLE_TASK}'; "
        f"run: {REFRESH}"
    )
    assert sorted(have) == sorted(made), hint
    stale = [_diff(made[p], have[p], p) for p in made if have[p] != made[p]]
    assert not stale, hint + "\n" + "\n".join(stale)


def test_guide_code_blocks_are_the_templates() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    fresh = refresh_guide(guide)
    hint = (
        f"docs/plugin-guide.md's code blocks are not 'ltx new plugin {GUIDE_NAME} --task "
        f"{GUIDE_TASK}'; run: {REFRESH}"
    )
    assert fresh == guide, hint + "\n" + _diff(fresh, guide, "docs/plugin-guide.md")


def test_guide_shows_every_file_once() -> None:
    shown = guide_files(GUIDE.read_text(encoding="utf-8"))
    assert len(shown) == len(set(shown)), shown
    # py.typed is empty: the guide mentions it rather than showing a block.
    wanted = {f"ltx-{GUIDE_NAME}/{rel}" for rel in render_plugin(GUIDE_NAME, GUIDE_TASK)}
    assert set(shown) == wanted - {f"ltx-{GUIDE_NAME}/src/ltx_{GUIDE_NAME}/py.typed"}


def test_refresh_rewrites_a_stale_block() -> None:
    stale = "Prose.\n\n```python\n# file: ltx-sums/src/ltx_sums/__init__.py\nold\n```\n\nMore.\n"
    fresh = refresh_guide(stale)
    init = render_plugin("sums", "sums-classify")["src/ltx_sums/__init__.py"]
    assert (
        fresh
        == f"Prose.\n\n```python\n# file: ltx-sums/src/ltx_sums/__init__.py\n{init}```\n\nMore.\n"
    )
    assert refresh_guide(fresh) == fresh


def test_the_repository_copies_keep_their_task_names() -> None:
    # The core's tests train "toy-classify" and the guide's prose runs "sums-classify":
    # the copies pass --task, since a plugin's task is otherwise named after the plugin.
    toy = (EXAMPLE / "src" / "ltx_toy" / "plugin.py").read_text(encoding="utf-8")
    assert '"toy-classify"' in toy and (EXAMPLE / "tests" / "test_ltx_toy.py").is_file()
    assert "ltx train sums-classify" in GUIDE.read_text(encoding="utf-8")
    assert '"sums",' in render_plugin("sums")["src/ltx_sums/plugin.py"]
