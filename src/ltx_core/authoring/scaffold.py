"""``ltx new``: write a complete, installable plugin from templates, of one of three kinds.

- ``ltx new plugin NAME [--task TASK]``: a task family of its own: the task (named NAME
  unless ``--task`` names it), a dataset and a backbone that train with it, their config
  models. As written it is a working starter (integer sequences classified by the bin
  of their sum), meant to be replaced piece by piece.
- ``ltx new dataset NAME --task TASK`` / ``ltx new backbone NAME --task TASK``: one
  component for another plugin's task, written against that plugin's public API; there
  is a template per task (``templates/dataset/<task>/``), and a task without one is
  refused in one sentence.
- ``ltx new command NAME``: a plugin adding ``ltx NAME`` through ``register_commands``.

Every plugin has a ``pyproject.toml`` with its entry point, a torch-free registration
module declaring the plugin API (``LTX_PLUGIN_API``), a README, and tests on ltx-core's
pytest plugin in ``tests/test_<package>.py``: a name of its own, so several plugins'
tests collect in one pytest run. ``pip install -e`` it and it appears in ``ltx list``
(or ``ltx --help``) at once.

The templates are the one source of these plugins; the repository's rendered copies of
the task-family templates are kept by :mod:`ltx_core.authoring.maintenance`.
"""

from __future__ import annotations

import keyword
import re
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Literal

from ltx_core.errors import LtxError
from ltx_core.registry import get_registry

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11+; annotations only need it
    from importlib.resources.abc import Traversable

__all__ = [
    "ComponentKind",
    "component_tasks",
    "new_command",
    "new_component",
    "new_plugin",
    "render_command",
    "render_component",
    "render_plugin",
    "write_files",
]

#: The kinds of component ``ltx new dataset`` / ``ltx new backbone`` write for a task.
ComponentKind = Literal["dataset", "backbone"]

# template -> path in the new plugin ({package} is replaced by the import name). The
# tests module is named after the package: two plugins' "tests/test_plugin.py" in one
# pytest run are one module name for two files ("import file mismatch").
_COMMON = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "__init__.py.tmpl": "src/{package}/__init__.py",
    "plugin.py.tmpl": "src/{package}/plugin.py",
    "test_plugin.py.tmpl": "tests/test_{package}.py",
}
_LAYOUTS: dict[str, dict[str, str]] = {
    "plugin": {
        **_COMMON,
        "config.py.tmpl": "src/{package}/config.py",
        "data.py.tmpl": "src/{package}/data.py",
        "model.py.tmpl": "src/{package}/model.py",
        "task.py.tmpl": "src/{package}/task.py",
    },
    "dataset": {
        **_COMMON,
        "config.py.tmpl": "src/{package}/config.py",
        "data.py.tmpl": "src/{package}/data.py",
        "examples.jsonl.tmpl": "src/{package}/examples.jsonl",
    },
    "backbone": {
        **_COMMON,
        "config.py.tmpl": "src/{package}/config.py",
        "model.py.tmpl": "src/{package}/model.py",
    },
    "command": {**_COMMON, "command.py.tmpl": "src/{package}/command.py"},
}
_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


def _templates(*parts: str) -> Traversable:
    folder = resources.files("ltx_core.authoring") / "templates"
    for part in parts:
        folder = folder / part
    return folder


def _check_name(name: str, what: str, example: str, *, plugin: bool = True) -> str:
    """``name`` (a plugin's without a leading ``ltx-``, the distribution's prefix), or one
    sentence saying why it is not a name."""
    short = name.removeprefix("ltx-") if plugin else name
    if not _NAME.fullmatch(short):
        raise LtxError(
            f"'{name}' is not a {what} name; use lower-case words joined by hyphens "
            f"(e.g. {example})."
        )
    return short


def _identifier(short: str) -> str:
    """``acme-report`` -> ``acme_report``: a Python name (a keyword gets a ``_``)."""
    ident = short.replace("-", "_")
    return ident + "_" if keyword.iskeyword(ident) else ident


def _names(short: str) -> dict[str, str]:
    """The values every template may use, derived from the plugin's short name."""
    dist = f"ltx-{short}"
    return {
        "dist": dist,
        "plugin": short,  # the entry point's name: the plugin in `ltx plugins`
        "package": dist.replace("-", "_"),
        "cls": "".join(part.capitalize() for part in short.split("-")),
        "func": _identifier(short),
    }


def _render(folder: Traversable, kind: str, values: dict[str, str]) -> dict[str, str]:
    files = {
        target.format(package=values["package"]): Template(
            (folder / template).read_text(encoding="utf-8")
        ).substitute(values)
        for template, target in _LAYOUTS[kind].items()
    }
    files[f"src/{values['package']}/py.typed"] = ""  # the package ships type hints
    return files


def render_plugin(name: str, task: str | None = None) -> dict[str, str]:
    """The files of task plugin ``name`` (e.g. ``acme-sums``): path in its folder -> text.

    Its task is called ``task``, by default the name itself (``acme-sums``); its dataset
    and backbone are ``NAME-sequences`` and ``NAME-encoder``.
    """
    short = _check_name(name, "plugin", "acme-sums")
    task = short if task is None else _check_name(task, "task", "acme-sums", plugin=False)
    values = {
        **_names(short),
        "task": task,
        "dataset": f"{short}-sequences",
        "backbone": f"{short}-encoder",
    }
    return _render(_templates("plugin"), "plugin", values)


def component_tasks(kind: ComponentKind) -> list[str]:
    """The tasks ``ltx new KIND`` has a template for (its folders under ``templates/KIND``)."""
    return sorted(p.name for p in _templates(kind).iterdir() if p.is_dir())


def render_component(kind: ComponentKind, name: str, task: str) -> dict[str, str]:
    """The files of a plugin adding the ``kind`` ``name`` to another plugin's ``task``."""
    short = _check_name(name, kind, f"acme-{'reviews' if kind == 'dataset' else 'encoder'}")
    known = component_tasks(kind)
    if task not in known:
        raise LtxError(
            f"'ltx new {kind}' has no template for the task '{task}' (it has one for: "
            f"{', '.join(known)}); write the plugin by hand as docs/extending-a-task.md shows."
        )
    values = {**_names(short), "task": task, kind: short}
    return _render(_templates(kind, task), kind, values)


def render_command(name: str) -> dict[str, str]:
    """The files of a plugin adding the command ``ltx NAME``."""
    short = _check_name(name, "command", "acme-report")
    return _render(_templates("command"), "command", {**_names(short), "command": short})


def _new(name: str, parent: Path, files: dict[str, str]) -> Path:
    root = Path(parent) / f"ltx-{name.removeprefix('ltx-')}"
    if root.exists() and any(root.iterdir()):
        raise LtxError(f"'{root}' already exists and is not empty; choose another --dir.")
    write_files(root, files)
    return root


def new_plugin(name: str, parent: Path, task: str | None = None) -> Path:
    """Write task plugin ``name`` (e.g. ``acme-sums``) into ``parent/ltx-NAME``; return its
    folder."""
    return _new(name, parent, render_plugin(name, task))


def new_component(kind: ComponentKind, name: str, task: str, parent: Path) -> Path:
    """Write a plugin adding the ``kind`` ``name`` to ``task`` into ``parent/ltx-NAME``."""
    return _new(name, parent, render_component(kind, name, task))


def new_command(name: str, parent: Path) -> Path:
    """Write a plugin adding ``ltx NAME`` into ``parent/ltx-NAME``; return its folder.

    A name that is already a command here is refused: the core's commands and the first
    plugin's keep their names, so the new one would never run.
    """
    files = render_command(name)  # the name is checked first
    short = name.removeprefix("ltx-")
    taken = get_registry().command(short)
    if taken is not None:
        raise LtxError(
            f"'ltx {short}' is already a command (of plugin '{taken.plugin}'); choose another name."
        )
    return _new(name, parent, files)


def write_files(root: Path, files: dict[str, str]) -> None:
    """Write ``files`` (path in ``root`` -> text) under ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
