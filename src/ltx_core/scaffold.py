"""``ltx new plugin NAME``: write a complete, installable task plugin from templates.

The result has a ``pyproject.toml`` with the entry point, a torch-free registration
module, config models, a dataset, backbone and task that train, the conformance-kit
test and a README. ``pip install -e`` it and it appears in ``ltx list`` at once.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

from ltx_core.errors import LtxError

__all__ = ["new_plugin"]

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


def new_plugin(name: str, parent: Path) -> Path:
    """Write plugin ``name`` (e.g. ``acme-sums``) into ``parent/ltx-NAME``; return its folder."""
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
    root = Path(parent) / dist
    if root.exists() and any(root.iterdir()):
        raise LtxError(f"'{root}' already exists and is not empty; choose another --dir.")
    templates = resources.files("ltx_core") / "templates" / "plugin"
    for template, target in _LAYOUT.items():
        text = Template((templates / template).read_text(encoding="utf-8")).substitute(values)
        path = root / target.format(package=values["package"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "src" / values["package"] / "py.typed").write_text("", encoding="utf-8")
    return root
