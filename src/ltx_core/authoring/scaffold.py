"""``ltx new plugin NAME``: write a complete, installable task plugin from templates.

The result has a ``pyproject.toml`` with the entry point, a torch-free registration
module, config models, a dataset, backbone and task that train, the conformance-kit
test and a README. ``pip install -e`` it and it appears in ``ltx list`` at once.

The templates are the one source of the starter plugin. The repository keeps two
rendered copies of them, rewritten from here and checked by its tests:
``tests/example_plugin`` (the plugin named :data:`EXAMPLE_NAME`) and the code blocks of
``docs/plugin-guide.md`` (the plugin named :data:`GUIDE_NAME`)::

    python -m ltx_core.authoring.scaffold --refresh-example --refresh-guide
"""

from __future__ import annotations

import argparse
import re
import shutil
from importlib import resources
from pathlib import Path
from string import Template

from ltx_core.errors import LtxError

__all__ = [
    "EXAMPLE_NAME",
    "GUIDE_NAME",
    "guide_files",
    "new_plugin",
    "refresh_example",
    "refresh_guide",
    "render_plugin",
]

#: ``tests/example_plugin`` is ``ltx new plugin toy``: its task keeps the name the
#: core's tests have always trained (``toy-classify``).
EXAMPLE_NAME = "toy"
#: The plugin the guide builds, block by block (``ltx-sums``, task ``sums-classify``).
GUIDE_NAME = "sums"

# template -> path in the new plugin ({package} is replaced by the import name).
_LAYOUT = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "__init__.py.tmpl": "src/{package}/__init__.py",
    "plugin.py.tmpl": "src/{package}/plugin.py",
    "config.py.tmpl": "src/{package}/config.py",
    "data.py.tmpl": "src/{package}/data.py",
    "model.py.tmpl": "src/{package}/model.py",
    "task.py.tmpl": "src/{package}/task.py",
    "test_plugin.py.tmpl": "tests/test_plugin.py",
}
_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
# A guide block that shows a plugin file: a fence, a language, then "# file: PATH".
_GUIDE_BLOCK = re.compile(
    r"^(?P<fence>`{3,})(?P<lang>\w+)\n# file: (?P<path>\S+)\n.*?^(?P=fence)$", re.M | re.S
)
_LANGS = {".py": "python", ".toml": "toml", ".md": "markdown"}


def render_plugin(name: str) -> dict[str, str]:
    """The files of plugin ``name`` (e.g. ``acme-sums``): path in its folder -> text."""
    short = name.removeprefix("ltx-")
    if not _NAME.fullmatch(short):
        raise LtxError(
            f"'{name}' is not a plugin name; use lower-case words joined by hyphens "
            "(e.g. acme-sums)."
        )
    dist = f"ltx-{short}"
    values = {
        "dist": dist,
        "plugin": short,
        "package": dist.replace("-", "_"),
        "task": f"{short}-classify",
        "dataset": f"{short}-sequences",
        "backbone": f"{short}-encoder",
    }
    templates = resources.files("ltx_core.authoring") / "templates" / "plugin"
    files = {
        target.format(package=values["package"]): Template(
            (templates / template).read_text(encoding="utf-8")
        ).substitute(values)
        for template, target in _LAYOUT.items()
    }
    files[f"src/{values['package']}/py.typed"] = ""  # the package ships type hints
    return files


def new_plugin(name: str, parent: Path) -> Path:
    """Write plugin ``name`` (e.g. ``acme-sums``) into ``parent/ltx-NAME``; return its folder."""
    files = render_plugin(name)
    root = Path(parent) / f"ltx-{name.removeprefix('ltx-')}"
    if root.exists() and any(root.iterdir()):
        raise LtxError(f"'{root}' already exists and is not empty; choose another --dir.")
    _write(root, files)
    return root


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def refresh_guide(markdown: str, name: str = GUIDE_NAME) -> str:
    """``markdown`` with every ``# file: ltx-NAME/PATH`` code block set to that rendered file.

    Prose and other blocks are left as written. A block naming a file the scaffold does
    not write is an error, so a renamed template cannot leave a stale copy behind.
    """
    files = render_plugin(name)
    prefix = f"ltx-{name.removeprefix('ltx-')}/"

    def block(match: re.Match[str]) -> str:
        path = match["path"]
        rel = path.removeprefix(prefix)
        if not path.startswith(prefix) or rel not in files:
            raise LtxError(
                f"The guide shows '{path}', which 'ltx new plugin {name}' does not write."
            )
        text = files[rel]
        # A longer fence than any inside the file (the README holds a ```bash block).
        fence = "`" * max([3, *(len(run) + 1 for run in re.findall(r"^`{3,}", text, re.M))])
        lang = _LANGS.get(Path(rel).suffix, match["lang"])
        return f"{fence}{lang}\n# file: {path}\n{text}{fence}"

    return _GUIDE_BLOCK.sub(block, markdown)


def guide_files(markdown: str) -> list[str]:
    """The plugin paths the guide's ``# file:`` blocks show, in order."""
    return [m["path"] for m in _GUIDE_BLOCK.finditer(markdown)]


def refresh_example(folder: Path, name: str = EXAMPLE_NAME) -> None:
    """Replace ``folder`` with exactly what ``ltx new plugin NAME`` writes."""
    if folder.exists():
        shutil.rmtree(folder)
    _write(folder, render_plugin(name))


def main(argv: list[str] | None = None) -> None:
    """Rewrite the repository's rendered copies of the templates (run from its root)."""
    parser = argparse.ArgumentParser(
        prog="python -m ltx_core.authoring.scaffold", description=main.__doc__
    )
    parser.add_argument(
        "--refresh-example",
        action="store_true",
        help=f"rewrite tests/example_plugin as 'ltx new plugin {EXAMPLE_NAME}'",
    )
    parser.add_argument(
        "--refresh-guide",
        action="store_true",
        help=f"rewrite docs/plugin-guide.md's code blocks ('{GUIDE_NAME}')",
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
