"""The typed one-way hand-off: declared keys checked at build time, checkpoints checked
against the data they meet, base-class state a subclass cannot clobber, plugin outputs
under artifacts/, and versions from the plugins' own requirements."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch


def test_v2_plugin_trains_tests_and_predicts(demo_plugin: None, ltx_shared_run, ltx_cli) -> None:
    out = ltx_shared_run("demo-classify")
    ckpt = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)
    meta = ckpt["ltx"]
    assert meta["format"] == 2
    assert meta["handoff"] == {"num_features": 4, "class_names": ["ant", "bee", "cat"]}
    assert meta["backbone_state"] == {"restored": False, "bias": True}
    assert "info" not in meta  # nothing of the 0.1 dict when no 0.1 component ran
    assert (out / "artifacts" / "labels.txt").read_text().split() == ["ant", "bee", "cat"]
    result = ltx_cli("test", "--ckpt", str(out / "checkpoints" / "last.ckpt"))
    assert result.exit_code == 0, result.output
    assert "test_acc" in result.output


def test_task_request_reaches_the_backbone(demo_plugin: None, ltx_train) -> None:
    run = ltx_train("demo-classify", "task.head_bias=false")
    meta = torch.load(run.checkpoint, weights_only=False)["ltx"]
    assert meta["backbone_state"]["bias"] is False


def test_missing_handoff_key_names_component_and_key(demo_plugin: None, ltx_train) -> None:
    result = ltx_train("demo-classify", "dataset.drop_key=num_features", check=False)
    assert result.exit_code == 2, result.output
    msg = " ".join(result.output.split())
    assert "backbone 'demo-mlp' reads 'num_features'" in msg, msg
    assert "'demo-points' provides only: class_names" in msg, msg
    assert "Traceback" not in result.output


def test_reordered_labels_are_refused_not_scored(demo_plugin: None, ltx_train, ltx_cli) -> None:
    ckpt = str(ltx_train("demo-classify", "--max-steps", "30").checkpoint)
    good = ltx_cli("test", "--ckpt", ckpt, "--json")
    assert good.exit_code == 0, good.output
    assert json.loads(good.stdout)["test_acc"] > 0.8
    flipped = ltx_cli("test", "--ckpt", ckpt, "dataset.label_order=[bee, ant, cat]")
    assert flipped.exit_code == 2, flipped.output
    msg = " ".join(flipped.output.split())
    assert "same labels in another order" in msg and "label_names" in msg, msg
    assert "test_acc" not in flipped.output


def test_resume_on_other_data_is_refused(demo_plugin: None, ltx_train) -> None:
    ltx_train("demo-classify")
    other = "dataset.label_order=[a, b, c]"
    result = ltx_train("demo-classify", "--resume", "--max-steps", "8", other, check=False)
    assert result.exit_code == 2, result.output
    assert "Cannot resume" in result.output and "class_names" in result.output


def test_resume_records_the_step(demo_plugin: None, ltx_train) -> None:
    ltx_train("demo-classify")
    result = ltx_train("demo-classify", "--resume", "--max-steps", "9", check=False)
    assert result.exit_code == 0, result.output
    summary = result.summary()
    assert summary["resumed_from_step"] == 6 and summary["global_step"] == 9


def test_subclass_attribute_does_not_clobber_base_state(demo_plugin: None) -> None:
    from ltx_core.config.resolve import resolve_config
    from ltx_core.engine.build import build_datamodule

    dm = build_datamodule(resolve_config("demo-classify"))
    assert dm._splits == "a subclass's own attribute"
    assert set(dm.splits) == {"train", "validation", "test"}
    assert dm.loader("train").batch_size == 32


def test_overwrite_clears_artifacts_and_artifacts_mark_a_run(
    demo_plugin: None, ltx_train, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    (out / "artifacts").mkdir(parents=True)
    (out / "artifacts" / "stale.png").write_text("old")
    (out / "notes.txt").write_text("mine")
    refused = ltx_train("demo-classify", check=False)
    assert refused.exit_code == 2 and "already holds a run" in refused.output
    ltx_train("demo-classify", "--overwrite")
    assert not (out / "artifacts" / "stale.png").exists()
    assert (out / "notes.txt").read_text() == "mine"  # not ltx's: never touched


def test_versions_come_from_the_plugins_requirements() -> None:
    from ltx_core.config.resolve import resolve_config
    from ltx_core.engine.training import package_versions

    versions = package_versions(resolve_config("text-classification"))
    assert {"ltx-nlp-hf", "transformers", "torch", "pytorch-lightning"} <= set(versions)
    assert "torchvision" not in versions  # igpt's requirement; this run did not use igpt


def test_old_checkpoint_format_still_loads(
    demo_plugin: None, ltx_shared_run, ltx_cli, tmp_path: Path
) -> None:
    """A checkpoint of ltx 0.1 (one ``info`` dict, no ``handoff``) tests as before."""
    path = ltx_shared_run("demo-classify") / "checkpoints" / "last.ckpt"
    ckpt = torch.load(path, weights_only=False)
    meta = ckpt["ltx"]
    ckpt["ltx"] = {"config": meta["config"], "info": meta["handoff"]}
    old = tmp_path / "old.ckpt"
    torch.save(ckpt, old)
    result = ltx_cli("test", "--ckpt", str(old))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("bad", ["handoff_model", "config_model"])
def test_no_second_source_of_truth(bad: str) -> None:
    from ltx_core.data import LtxDataModule
    from ltx_core.task import LtxTask

    assert not hasattr(LtxTask, bad) and not hasattr(LtxDataModule, bad)


class _Payload:
    """Unpickling this touches a file: proof of whether a loader ran it."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path(self.marker).touch, ())


def test_checkpoint_with_a_code_payload_is_refused_everywhere(
    demo_plugin: None, ltx_train, ltx_cli, tmp_path: Path
) -> None:
    last = ltx_train("demo-classify").checkpoint
    marker = tmp_path / "payload-ran"
    ckpt = torch.load(last, weights_only=False)
    ckpt["ltx"]["extra"] = _Payload(str(marker))
    torch.save(ckpt, last)
    for argv in (
        ["test", "--ckpt", str(last)],
        ["predict", "--ckpt", str(last), "1,2,3,4"],
    ):
        result = ltx_cli(*argv)
        assert result.exit_code == 2, result.output
        assert "Refusing" in result.output, result.output
    resumed = ltx_train("demo-classify", "--resume", "--max-steps", "8", check=False)
    assert resumed.exit_code == 2 and "Refusing" in resumed.output, resumed.output
    assert not marker.exists()
    torch.load(last, weights_only=False)  # the control: a plain load does run it
    assert marker.exists()


def test_starter_plugin_uses_no_deprecated_form(example_plugin: None, tmp_path: Path) -> None:
    """The scaffold's plugin (tests/example_plugin) is written against the v2 API."""
    import warnings

    from ltx_core import registry
    from ltx_core.authoring.conformance import check_task_runs

    with warnings.catch_warnings():
        warnings.filterwarnings(
            "error", message=r".*(migration notes|is deprecated;)", category=DeprecationWarning
        )
        check_task_runs(registry.get_registry().task("toy-classify"), tmp_path)
