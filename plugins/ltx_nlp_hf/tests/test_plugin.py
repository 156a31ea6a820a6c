"""The plugin as the registry sees it: its entry point, what it registers, the core's
conformance kit, and that listing it imports neither torch nor transformers."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from ltx_core.authoring.conformance import conformance_cases
from ltx_core.config.resolve import resolve_config
from ltx_core.registry import get_registry

PLUGIN = "nlp-hf"
TASKS = {
    "text-classification", "token-classification", "question-answering", "language-modeling",
    "masked-language-modeling", "multiple-choice", "summarization", "translation",
}  # fmt: skip


def test_entry_point_is_installed() -> None:
    eps = [ep for ep in metadata.entry_points(group="ltx") if ep.name == PLUGIN]
    assert len(eps) == 1 and eps[0].value == "ltx_nlp_hf.plugin"
    assert eps[0].dist is not None and eps[0].dist.metadata["Name"] == "ltx-nlp-hf"


def test_registers_every_task_and_its_defaults() -> None:
    reg = get_registry()
    assert not [f for f in reg.failures if f.plugin == PLUGIN]
    names = {s.name for s in reg.components("task") if s.plugin == PLUGIN}
    assert names == TASKS
    for spec in reg.components("task"):
        if spec.plugin != PLUGIN:
            continue
        for kind, default in (
            ("dataset", spec.default_dataset),
            ("backbone", spec.default_backbone),
            ("tokenizer", spec.default_tokenizer),
        ):
            component = reg.get(kind, default)  # type: ignore[arg-type]
            assert not component.fits or spec.name in component.fits, (spec.name, default)
        assert spec.examples, f"{spec.name} has no predict examples"


def test_every_task_has_a_file_dataset_and_a_packaged_sample() -> None:
    reg = get_registry()
    for task in TASKS:
        fitting = {s.name for s in reg.components("dataset") if task in s.fits}
        assert any(n.endswith("-files") for n in fitting), task
        assert any(n.endswith("-sample") for n in fitting), task


@pytest.mark.parametrize("task", sorted(TASKS))
def test_smoke_config_resolves_to_packaged_data(task: str) -> None:
    spec = get_registry().get("task", task)
    resolved = resolve_config(task, config_data=spec.smoke)
    cfg: Any = resolved.config
    assert Path(cfg.dataset.train_file).is_file()
    assert cfg.backbone.name.startswith("nlp-hf:tiny-")


def test_default_text_classification_run_is_offline_ready() -> None:
    cfg: Any = resolve_config("text-classification").config
    assert cfg.dataset.name == "nlp-hf:sst2-sample" and cfg.backbone.name == "nlp-hf:minilm"
    for name in ("train_file", "validation_file", "test_file"):
        assert Path(getattr(cfg.dataset, name)).is_file()
    from ltx_nlp_hf.hub import embedded_model_path

    assert embedded_model_path(cfg.backbone.pretrained_model_name_or_path) is not None


def _component_cases() -> list[Any]:
    # The run cases train every task; the core's registry-wide smoke test does that already.
    return [
        pytest.param(check, id=case_id)
        for case_id, check in conformance_cases(PLUGIN)
        if not case_id.startswith("run:")
    ]


@pytest.mark.parametrize("check", _component_cases())
def test_conformance(check: Any, tmp_path: Path) -> None:
    check(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(
    "check",
    [pytest.param(c, id=i) for i, c in conformance_cases(PLUGIN) if i.startswith("run:")],
)
def test_conformance_runs(check: Any, tmp_path: Path) -> None:
    check(tmp_path)
