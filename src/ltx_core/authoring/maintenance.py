"""Keeping the repository's rendered copies of the plugin templates current.

The templates (:mod:`ltx_core.authoring.scaffold`) are the one source of the starter
plugin. The repository keeps two rendered copies of them, checked by its tests:
``tests/example_plugin`` (the plugin named :data:`EXAMPLE_NAME`, task
:data:`EXAMPLE_TASK`) and the code blocks of ``docs/plugin-guide.md`` (the plugin named
:data:`GUIDE_NAME`, task :data:`GUIDE_TASK`). After changing a template, from the
repository's root::

    python -m ltx_core.authoring.maintenance --refresh-example --refresh-guide
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

from ltx_core.authoring.scaffold import render_plugin, write_files
from ltx_core.errors import LtxError

__all__ = [
    "EXAMPLE_NAME",
    "EXAMPLE_TASK",
    "GUIDE_NAME",
    "GUIDE_TASK",
    "guide_files",
    "refresh_example",
    "refresh_guide",
]

#: ``tests/example_plugin`` is ``ltx new plugin toy --task toy-classify``: its task keeps
#: the name the core's tests have always trained (a plugin's task is otherwise named
#: after the plugin).
EXAMPLE_NAME = "toy"
EXAMPLE_TASK = "toy-classify"
#: The plugin the guide builds, block by block: ``ltx new plugin sums --task
#: sums-classify``, the task name its prose and commands use.
GUIDE_NAME = "sums"
GUIDE_TASK = "sums-classify"
# A guide block that shows a plugin file: a fence, a language, then "# file: PATH".
_GUIDE_BLOCK = re.compile(
    r"^(?P<fence>`{3,})(?P<lang>\w+)\n# file: (?P<path>\S+)\n.*?^(?P=fence)$", re.M | re.S
)
_LANGS = {".py": "python", ".toml": "toml", ".md": "markdown"}


def refresh_guide(markdown: str, name: str = GUIDE_NAME, task: str = GUIDE_TASK) -> str:
    """``markdown`` with every ``# file: ltx-NAME/PATH`` code block set to that rendered file.

    Prose and other blocks (those of other packages the guide builds, e.g. a command
    plugin) are left as written. A block of ``ltx-NAME`` naming a file the scaffold does
    not write is an error, so a renamed template cannot leave a stale copy behind.
    """
    files = render_plugin(name, task)
    prefix = f"ltx-{name.removeprefix('ltx-')}/"

    def block(match: re.Match[str]) -> str:
        path = match["path"]
        if not path.startswith(prefix):
            return match[0]
        rel = path.removeprefix(prefix)
        if rel not in files:
            raise LtxError(
                f"The guide shows '{path}', which 'ltx new plugin {name} --task {task}' "
                "does not write."
            )
        text = files[rel]
        # A longer fence than any inside the file (the README holds a ```bash block).
        fence = "`" * max([3, *(len(run) + 1 for run in re.findall(r"^`{3,}", text, re.M))])
        lang = _LANGS.get(Path(rel).suffix, match["lang"])
        return f"{fence}{lang}\n# file: {path}\n{text}{fence}"

    return _GUIDE_BLOCK.sub(block, markdown)


def guide_files(markdown: str, name: str = GUIDE_NAME) -> list[str]:
    """The paths of plugin ``name``'s files that the guide's ``# file:`` blocks show, in
    order."""
    prefix = f"ltx-{name.removeprefix('ltx-')}/"
    return [m["path"] for m in _GUIDE_BLOCK.finditer(markdown) if m["path"].startswith(prefix)]


def refresh_example(folder: Path, name: str = EXAMPLE_NAME, task: str = EXAMPLE_TASK) -> None:
    """Replace ``folder`` with exactly what ``ltx new plugin NAME --task TASK`` writes."""
    if folder.exists():
        shutil.rmtree(folder)
    write_files(folder, render_plugin(name, task))


def main(argv: list[str] | None = None) -> None:
    """Rewrite the repository's rendered copies of the templates (run from its root)."""
    parser = argparse.ArgumentParser(
        prog="python -m ltx_core.authoring.maintenance", description=main.__doc__
    )
    parser.add_argument(
        "--refresh-example",
        action="store_true",
        help=f"rewrite tests/example_plugin as 'ltx new plugin {EXAMPLE_NAME} --task "
        f"{EXAMPLE_TASK}'",
    )
    parser.add_argument(
        "--refresh-guide",
        action="store_true",
        help=f"rewrite docs/plugin-guide.md's code blocks ('{GUIDE_NAME}', task '{GUIDE_TASK}')",
    )
    parser.add_argument("--root", type=Path, default=Path("."), help="the repository root")
    args = parser.parse_args(argv)
    if not (args.refresh_example or args.refresh_guide):
        parser.error("nothing to do: pass --refresh-example and/or --refresh-guide")
    if not (args.root / "src" / "ltx_core").is_dir():
        parser.error(f"{args.root.resolve()} is not the ltx repository's root; pass --root")
    if args.refresh_example:
        refresh_example(args.root / "tests" / "example_plugin")
    if args.refresh_guide:
        guide = args.root / "docs" / "plugin-guide.md"
        guide.write_text(refresh_guide(guide.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
