"""The plugin on ltx's v2 API alone: each task declares its family's hand-off, the
factories take ``request`` / ``restore`` (tokenizer: ``backbone``), and every task's
smoke run trains, tests and predicts with ltx's deprecation warnings turned into errors,
so a form left over from ltx 0.1 fails here."""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path
from typing import Any

import pytest
from ltx_nlp_hf import backbones, handoff, tokenizers
from ltx_nlp_hf.data.base import HFDataModule
from ltx_nlp_hf.tasks.base import HFTask

from ltx_core.authoring.conformance import check_task_runs
from ltx_core.handoff import declared_model
from ltx_core.registry import get_registry
from ltx_core.registry.spec import TaskSpec

PLUGIN = "nlp-hf"

#: Each task and the hand-off model its dataset family returns.
HANDOFFS = {
    "text-classification": handoff.TextClassificationData,
    "token-classification": handoff.TokenClassificationData,
    "question-answering": handoff.QuestionAnsweringData,
    "language-modeling": handoff.LanguageModelingData,
    "masked-language-modeling": handoff.LanguageModelingData,
    "multiple-choice": handoff.MultipleChoiceData,
    "summarization": handoff.Seq2SeqData,
    "translation": handoff.Seq2SeqData,
}
#: The hooks and attributes of ltx 0.1, each replaced by a v2 form.
OLD_FORMS = ("backbone_info", "on_run_end", "model_data_kwargs", "config_model", "_pin")


def _tasks() -> list[TaskSpec]:
    specs = [s for s in get_registry().components("task") if s.plugin == PLUGIN]
    return sorted((s for s in specs if isinstance(s, TaskSpec)), key=lambda s: s.name)


def _defined_below(cls: type, base: type, name: str) -> bool:
    """Whether ``cls`` or a class between it and ``base`` (exclusive) defines ``name``."""
    return any(name in vars(k) for k in cls.__mro__[: cls.__mro__.index(base) + 1])


def test_every_task_declares_its_family_hand_off() -> None:
    assert {s.name for s in _tasks()} == set(HANDOFFS)
    for spec in _tasks():
        cls = spec.load_target()
        assert declared_model(cls) is HANDOFFS[spec.name], spec.name
        assert "handoff" in inspect.signature(cls.__init__).parameters, spec.name
        assert not [n for n in OLD_FORMS if _defined_below(cls, HFTask, n)], spec.name
        dataset = get_registry().get("dataset", spec.default_dataset).load_target()
        returned = inspect.signature(dataset.handoff).return_annotation
        assert returned == HANDOFFS[spec.name].__name__, (spec.name, returned)
        assert not [n for n in OLD_FORMS if _defined_below(dataset, HFDataModule, n)], spec.name


def test_factories_take_the_v2_arguments() -> None:
    for factory in (backbones.build_hf_backbone, backbones.build_tiny_backbone):
        params = inspect.signature(factory).parameters
        assert {"request", "restore"} <= set(params)
        assert declared_model(factory) is handoff.TokenizedData
    params = inspect.signature(tokenizers.build_auto_tokenizer).parameters
    assert {"backbone", "restore"} <= set(params)


def _ltx_deprecations_are_errors() -> None:
    # Only ltx's own: the libraries underneath deprecate things of their own.
    warnings.filterwarnings("error", category=DeprecationWarning, module=r"ltx_core")
    warnings.filterwarnings(
        "error",
        message=r".*(is deprecated; |see the migration notes)",
        category=DeprecationWarning,
    )


# About 45 s for all eight on two CPU cores: fast enough to guard every run of the suite.
@pytest.mark.parametrize("spec", _tasks(), ids=lambda s: s.name)
def test_smoke_run_emits_no_ltx_deprecation(spec: TaskSpec, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        _ltx_deprecations_are_errors()
        summary: dict[str, Any] = check_task_runs(spec, tmp_path)
    assert summary["global_step"] > 0
    run = tmp_path / f"conformance-{spec.name}"
    assert (run / "artifacts" / "hf_model" / "config.json").is_file()
    assert not (run / "hf_model").exists()
