"""Every import path the docs have shown keeps importing: outside plugins import exactly
these. Modules that moved answer at their old path with the module at its new place and
a deprecation warning naming it; modules that stayed import without one."""

from __future__ import annotations

import subprocess
import sys

import pytest

#: (import statement, the new module when it moved, else None)
SHOWN = [
    ("from ltx_core.hookspecs import hookimpl, hookspec", "ltx_core.registry.hookspecs"),
    ("from ltx_core.configs import LtxConfig, TaskConfig, DataConfig", "ltx_core.config.models"),
    ("from ltx_core.testing import check_plugin, conformance_cases", "ltx_core.authoring.conformance"),
    ("from ltx_core.predicting import Predictor", "ltx_core.inference.predictor"),
    ("from ltx_core.spec import ComponentSpec, TaskSpec", "ltx_core.registry.spec"),
    ("from ltx_core.errors import LtxError, did_you_mean", None),
    ("from ltx_core.task import LtxTask, TaskConfig", None),
    ("from ltx_core.data import LtxDataModule, split_train_val", None),
    ("from ltx_core.handoff import HandOff, Restore, BuiltBackbone", None),
    ("from ltx_core.registry import get_registry, add_plugin", None),
    ("from ltx_core.cli.app import app, main", None),
    ("import ltx_nlp_hf.config", None),
    ("import ltx_nlp_hf.data", None),
    ("import ltx_nlp_hf.data.text_classification", None),
    ("import ltx_nlp_hf.handoff", None),
]  # fmt: skip


@pytest.mark.parametrize(("statement", "moved_to"), SHOWN, ids=[s for s, _ in SHOWN])
def test_documented_import_path_still_imports(statement: str, moved_to: str | None) -> None:
    code = (
        "import warnings\n"
        "warnings.simplefilter('always', DeprecationWarning)\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        f"    {statement}\n"
        "print('|'.join(str(w.message) for w in seen if w.category is DeprecationWarning\n"
        "               and 'ltx-core' in str(w.message)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    warned = done.stdout.strip()
    if moved_to is None:
        assert warned == ""
    else:
        assert f"moved to '{moved_to}'" in warned
        assert "removed in 0.3" in warned


def test_old_and_new_paths_are_one_module() -> None:
    import ltx_core.configs as old  # type: ignore[import-not-found]

    import ltx_core.config.models as new

    assert old is new
    assert old.TaskConfig is new.TaskConfig
