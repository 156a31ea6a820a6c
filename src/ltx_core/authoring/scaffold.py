"""``ltx new plugin NAME``: write a complete, installable task plugin from templates.

The result has a ``pyproject.toml`` with the entry point, a torch-free registration
module, config models, a dataset, backbone and task that train, the conformance-kit
test and a README. ``pip install -e`` it and it appears in ``ltx list`` at once.

The templates are the one source of the starter plugin; the repository's rendered
copies of them are kept by :mod:`ltx_core.authoring.maintenance`.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

from ltx_core.errors import LtxError

__all__ = ["new_plugin", "render_plugin", "write_files"]

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
    write_files(root, files)
    return root


def write_files(root: Path, files: dict[str, str]) -> None:
    """Write ``files`` (path in ``root`` -> text) under ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
