"""The conformance kit, run on the example plugin (installed for real) and on broken or
unusual specs: a config the kit cannot find, configs with required fields (the kit and
``ltx info`` alike), and registrations that disagree with their classes (predict options,
fits, default components, hand-off), each named in one sentence; the first-party plugins'
registrations agree."""

from __future__ import annotations

import json
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from ltx_core import registry
from ltx_core.authoring.conformance import (
    check_component,
    check_plugin,
    check_registration,
    conformance_cases,
)
from ltx_core.registry.hookspecs import hookimpl

# A config a user must complete (a data file has no sensible default), with a preset.
REQUIRED = '''
from pydantic import Field
from ltx_core.config.models import LtxConfig

class FileConfig(LtxConfig):
    """Reads one file."""

    path: str = Field(description="The file to read (no default: the user gives it).")
    limit: int = Field(10, ge=1, description="Rows to read.")
    sep: str = Field(",", min_length=1, description="Field separator.")
'''


def test_example_plugin_conforms(installed_example: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(installed_example))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(installed_example), *sys.path]))
    registry.reset_registry()
    check_plugin("toy", tmp_path)


def _backbone(ltx_plugin: Callable[..., None], config: str, **defaults: object):
    """The spec of a backbone registered with ``config`` and the preset ``defaults``."""

    @hookimpl
    def register_backbones(register):
        register(
            "under-test", target="ltx_core.config.models:DataConfig", config=config,
            defaults=defaults,
        )  # fmt: skip

    ltx_plugin("under-test", types.SimpleNamespace(register_backbones=register_backbones))
    return registry.get_registry().get("backbone", "under-test")


def test_problems_are_reported(ltx_plugin) -> None:
    spec = _backbone(ltx_plugin, "ltx_core.config.models:Nope")
    with pytest.raises(Exception, match="does not exist"):
        check_component(spec)


@pytest.fixture
def file_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``module:attr`` of :data:`REQUIRED`'s model, importable for this test."""
    (tmp_path / "ltx_required_config.py").write_text(REQUIRED)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "ltx_required_config:FileConfig"


def test_a_required_field_is_accepted_and_nothing_is_invented(ltx_plugin, file_config) -> None:
    check_component(_backbone(ltx_plugin, file_config))
    check_component(_backbone(ltx_plugin, file_config, limit=3, sep=";"))  # a preset
    # A preset that gives the required value too: the whole config is built and checked.
    check_component(_backbone(ltx_plugin, file_config, path="data.csv"))


@pytest.mark.parametrize(
    ("preset", "says"),
    [
        ({"limit": 0}, "the default of 'limit' (0) is invalid: Input should be greater than"),
        ({"sep": ""}, "the default of 'sep' ('') is invalid"),
        ({"limt": 3}, "its preset sets keys the config does not have: ['limt']"),
        ({"path": "data.csv", "limit": 0}, "greater than or equal to 1"),
    ],
)
def test_a_bad_preset_of_a_config_with_a_required_field_is_named(
    ltx_plugin, file_config, preset: dict[str, object], says: str
) -> None:
    with pytest.raises(Exception) as raised:
        check_component(_backbone(ltx_plugin, file_config, **preset))
    assert says in str(raised.value), raised.value


def test_ltx_info_shows_a_required_field_as_required(ltx_plugin, file_config, ltx_cli) -> None:
    _backbone(ltx_plugin, file_config, limit=3)
    done = ltx_cli("info", "under-test", "--json")
    assert done.exit_code == 0, done.output
    fields = {f["name"]: f["default"] for f in json.loads(done.stdout)["fields"]}
    assert fields == {"path": "(required)", "limit": 3, "sep": ","}


# -- registration against class ------------------------------------------------------
# Classes a registration names, right and wrong: a task reading ``Labelled`` with options,
# one without options, one whose annotation does not resolve; datasets handing off
# ``Sizes`` (no classes) or ``Labelled``; backbone factories reading either.
PARTS = """
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from ltx_core.data import LtxDataModule
from ltx_core.handoff import HandOff
from ltx_core.task import LtxTask

if TYPE_CHECKING:
    from collections import OrderedDict as Hidden


class Sizes(HandOff):
    width: int = Field(description="Features per example.")


class Labelled(Sizes):
    num_classes: int = Field(description="Classes.")


class Options(BaseModel):
    scores: bool = Field(False, description="Also return every class's score.")


class OtherOptions(BaseModel):
    top_k: int = Field(1, description="Classes to return.")


class ClassifyTask(LtxTask):
    handoff: Labelled
    predict_options = Options


class PlainTask(LtxTask):
    pass


class DictOptionsTask(LtxTask):
    handoff: Labelled
    predict_options = {"scores": bool}


class HiddenTask(LtxTask):
    handoff: Hidden


class SizesData(LtxDataModule):
    def handoff(self) -> Sizes:
        return Sizes(width=4)


class LabelledData(LtxDataModule):
    def handoff(self) -> Labelled:
        return Labelled(width=4, num_classes=2)


def build_sized(config: Any, data: Sizes, *, request: Any = None, restore: Any = None) -> Any:
    return None


def build_labelled(
    config: Any, data: Labelled, *, request: Any = None, restore: Any = None
) -> Any:
    return None
"""
MOD = "ltx_registration_parts"
TASK_CONFIG = "ltx_core.config.models:TaskConfig"
DATA_CONFIG = "ltx_core.config.models:DataConfig"
BACKBONE_CONFIG = "ltx_core.config.models:LtxConfig"
# A plugin whose registrations agree with their classes; each test breaks one thing.
GOOD: dict[str, dict[str, dict[str, object]]] = {
    "task": {
        "classify": {
            "target": f"{MOD}:ClassifyTask", "config": TASK_CONFIG,
            "predict_options": f"{MOD}:Options",
            "default_dataset": "labelled", "default_backbone": "labelled-net",
        },
        "plain": {"target": f"{MOD}:PlainTask", "config": TASK_CONFIG},
    },
    "dataset": {
        "labelled": {"target": f"{MOD}:LabelledData", "config": DATA_CONFIG,
                     "fits": ["classify"]},
        "sizes": {"target": f"{MOD}:SizesData", "config": DATA_CONFIG, "fits": ["plain"]},
    },
    "backbone": {
        "labelled-net": {"target": f"{MOD}:build_labelled", "config": BACKBONE_CONFIG,
                         "fits": ["classify"]},
        "sized-net": {"target": f"{MOD}:build_sized", "config": BACKBONE_CONFIG},
    },
}  # fmt: skip


@pytest.fixture
def parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """:data:`PARTS` importable as :data:`MOD` for this test."""
    (tmp_path / f"{MOD}.py").write_text(PARTS)
    monkeypatch.syspath_prepend(str(tmp_path))


def _register(ltx_plugin: Callable[..., None], **changes: dict[str, object] | None) -> None:
    """The plugin 'broken': :data:`GOOD` with ``changes`` (``"kind:name"`` -> fields
    updated, or ``None`` to drop that component)."""
    catalogue = {kind: {n: dict(f) for n, f in named.items()} for kind, named in GOOD.items()}
    for key, fields in changes.items():
        kind, _, name = key.partition(":")
        if fields is None:
            catalogue[kind].pop(name, None)
        else:
            catalogue[kind].setdefault(name, {}).update(fields)

    def hook(kind: str) -> Callable[..., None]:
        @hookimpl(specname=f"register_{kind}s")
        def register_all(register: Callable[..., None]) -> None:
            for name, fields in catalogue[kind].items():
                register(name, **fields)

        return register_all

    hooks = {f"register_{kind}s": hook(kind) for kind in catalogue}
    ltx_plugin("broken", types.SimpleNamespace(**hooks))


def _problems(kind: str, name: str) -> str:
    """What the kit says of one component's registration ('' when it agrees)."""
    spec = registry.get_registry().get(kind, f"broken:{name}")
    try:
        check_registration(spec)
    except AssertionError as exc:
        return str(exc)
    return ""


def test_an_agreeing_plugin_passes_and_has_a_registration_case_per_component(
    ltx_plugin, parts
) -> None:
    _register(ltx_plugin)
    for kind, named in GOOD.items():
        for name in named:
            assert _problems(kind, name) == "", (kind, name)
    ids = [case_id for case_id, _ in conformance_cases("broken")]
    assert "registration:task:classify" in ids and "registration:backbone:sized-net" in ids


@pytest.mark.parametrize(
    ("change", "says"),
    [
        # The registration names other options than the class declares.
        (
            {"predict_options": f"{MOD}:OtherOptions"},
            "The task 'classify' (plugin 'broken') registers predict_options="
            f"'{MOD}:OtherOptions' but its class ClassifyTask declares Options",
        ),
        # The class declares options the registration does not name: `ltx info` hides them.
        (
            {"predict_options": ""},
            "The task 'classify' (plugin 'broken') declares predict_options Options on its "
            f"class ClassifyTask but registers none, so 'ltx info' lists no options; register "
            f"predict_options='{MOD}:Options'.",
        ),
        # The class sets something that is not an options model: every option is refused.
        (
            {"target": f"{MOD}:DictOptionsTask", "predict_options": ""},
            "The task 'classify' (plugin 'broken') sets predict_options on its class "
            "DictOptionsTask to {'scores': <class 'bool'>}, which is not a pydantic model, so "
            "every option is refused.",
        ),
    ],
    ids=["other-model", "none-registered", "not-a-model"],
)
def test_predict_options_disagreeing_with_the_class_are_named(
    ltx_plugin, parts, change: dict[str, object], says: str
) -> None:
    _register(ltx_plugin, **{"task:classify": change})
    assert _problems("task", "classify").startswith(says)


def test_options_registered_for_a_class_without_any_are_named(ltx_plugin, parts) -> None:
    _register(ltx_plugin, **{"task:plain": {"predict_options": f"{MOD}:Options"}})
    found = _problems("task", "plain")
    assert found.startswith(
        "The task 'plain' (plugin 'broken') registers predict_options="
        f"'{MOD}:Options' but its class PlainTask declares NoPredictOptions"
    ), found


@pytest.mark.parametrize(
    ("fits", "says"),
    [
        (
            ["clasify"],
            "The dataset 'labelled' (plugin 'broken') registers fits=['clasify'], "
            "but no task 'clasify' is registered (fits takes bare task names). "
            "Did you mean 'classify'?",
        ),
        (["broken:classify"], "no task 'broken:classify' is registered"),
        # register(fits="classify") splits the name into letters.
        (
            "classify",
            "registers fits='classify', a string, which reads as the letters "
            "['c', 'l', 'a', 's', 's', 'i', 'f', 'y']; give a list: fits=['classify'].",
        ),
    ],
    ids=["typo", "qualified", "a-string"],
)
def test_fits_naming_no_registered_task_is_named(
    ltx_plugin, parts, fits: object, says: str
) -> None:
    _register(ltx_plugin, **{"dataset:labelled": {"fits": fits}})
    found = _problems("dataset", "labelled")
    assert says in found, found
    assert "\n" not in found  # one sentence per problem, one problem here


def test_default_components_that_do_not_fit_or_exist_are_named(ltx_plugin, parts) -> None:
    _register(
        ltx_plugin,
        **{"task:classify": {"default_dataset": "sizes", "default_tokenizer": "nope"}},
    )
    found = _problems("task", "classify").splitlines()
    assert (
        "The task 'classify' (plugin 'broken') registers default_dataset='sizes', but the "
        "dataset 'sizes' (plugin 'broken') fits only plain, so a run of the task with its "
        "defaults stops."
    ) in found, found
    assert any(
        line.startswith(
            "The task 'classify' (plugin 'broken') registers default_tokenizer='nope', "
            "which does not resolve: Unknown tokenizer 'nope'."
        )
        for line in found
    ), found


def test_a_dataset_without_what_its_task_reads_is_named(ltx_plugin, parts) -> None:
    # The dataset that fits 'classify' hands off Sizes; the task reads num_classes too.
    _register(ltx_plugin, **{"dataset:sizes": {"fits": ["classify"]}})
    assert _problems("task", "classify") == (
        "The task 'classify' (plugin 'broken') reads 'num_classes' from the hand-off "
        "(Labelled), but the dataset 'sizes' (plugin 'broken'), registered with it, declares "
        "it hands off Sizes, which has no such field."
    )
    assert _problems("dataset", "sizes") == ""  # the reader's case names it, once


def test_a_backbone_reading_what_the_task_s_datasets_lack_is_named(ltx_plugin, parts) -> None:
    # 'plain' meets the dataset 'sizes' (Sizes); a backbone that fits it reads Labelled.
    _register(ltx_plugin, **{"backbone:labelled-net": {"fits": ["classify", "plain"]}})
    assert _problems("backbone", "labelled-net") == (
        "The backbone 'labelled-net' (plugin 'broken') reads 'num_classes' from the hand-off "
        "(Labelled), but the dataset 'sizes' (plugin 'broken'), registered with it for the "
        "task 'plain', declares it hands off Sizes, which has no such field."
    )


def test_a_hand_off_annotation_that_does_not_resolve_is_named(ltx_plugin, parts) -> None:
    _register(ltx_plugin, **{"task:plain": {"target": f"{MOD}:HiddenTask"}})
    found = _problems("task", "plain")
    assert found.startswith(
        "The task 'plain' (plugin 'broken') declares what it reads with the annotation "
        "'handoff' of its class HiddenTask, but its annotations do not resolve at run time "
        "(NameError: name 'Hidden' is not defined), so the core checks no hand-off against it"
    ), found


@pytest.mark.parametrize("plugin", ["igpt", "nlp-hf"])
def test_first_party_registrations_agree_with_their_classes(plugin: str, tmp_path: Path) -> None:
    cases = [(i, c) for i, c in conformance_cases(plugin) if i.startswith("registration:")]
    assert cases
    for _, check in cases:
        check(tmp_path)


def test_a_default_backbone_of_another_plugin_is_checked_with_the_task(ltx_plugin, parts) -> None:
    # Its own plugin's kit does not know this task: this task's case names the mismatch.
    _register(ltx_plugin, **{"task:classify": {"default_backbone": "igpt:gpt2"}})
    found = _problems("task", "classify").splitlines()
    assert any(
        line.startswith("The backbone 'gpt2' (plugin 'igpt') reads ")
        and "the dataset 'labelled' (plugin 'broken'), registered with it for the task "
        "'classify', declares it hands off Labelled, which has no such field."
        in line
        for line in found
    ), found
    assert any("fits only igpt" in line for line in found), found
