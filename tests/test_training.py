"""Training glue end to end on the example plugin: the run directory contract, refusal to
overwrite, resume, and test / predict from a checkpoint alone."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

# 480 sequences: 384 train, 12 batches of 32 an epoch (the step counts below rely on it).
SAMPLES = "dataset.samples=480"


def test_run_directory_contract(example_plugin: None, ltx_train) -> None:
    run = ltx_train("toy-classify", SAMPLES).dir
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    assert (
        cfg["task"]["name"] == "toy:toy-classify" and cfg["backbone"]["name"] == "toy:toy-encoder"
    )
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert any(r.get("val_loss") for r in rows) and any(r.get("train_loss") for r in rows)
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert list((run / "checkpoints").glob("best-*.ckpt"))
    summary = json.loads((run / "summary.json").read_text())
    for key in ("val_loss", "val_acc", "test_loss", "test_acc"):
        assert isinstance(summary["metrics"][key], float)
    assert summary["metrics"]["test_acc"] > 0.5  # the bins of the sum are learnable
    assert summary["throughput"]["samples_per_s"] > 0
    assert summary["wall_time_s"] > 0 and summary["peak_memory_mb"] > 0
    assert summary["versions"]["ltx-toy"] == "0.1.0"
    assert "torch" in summary["versions"]


def _step_of(path: Path) -> int:
    import torch

    return int(torch.load(path, map_location="cpu", weights_only=False)["global_step"])


@pytest.mark.parametrize("stop", [["--max-epochs", "3"], ["--max-steps", "17"]])
def test_last_checkpoint_is_the_final_state(
    example_plugin: None, ltx_train, stop: list[str]
) -> None:
    # A learning rate too small to move the weights: the validation loss never improves
    # after the first epoch, so the best checkpoint stays there while last.ckpt must not.
    run = ltx_train("toy-classify", SAMPLES, "optimizer.lr=1e-30", *stop).dir
    summary = json.loads((run / "summary.json").read_text())
    assert summary["global_step"] == (36 if stop[0] == "--max-epochs" else 17)
    assert _step_of(run / "checkpoints" / "last.ckpt") == summary["global_step"]
    assert _step_of(Path(summary["checkpoints"]["best"])) == 12  # end of the first epoch


def test_config_yaml_reproduces_the_run(example_plugin: None, ltx_train, tmp_path: Path) -> None:
    ltx_train("toy-classify", SAMPLES, "--max-steps", "5", "backbone.d_model=16", output_dir="a")
    ltx_train("toy-classify", SAMPLES, "--config", "a/config.yaml", output_dir="b")
    first = yaml.safe_load((tmp_path / "a" / "config.yaml").read_text())
    second = yaml.safe_load((tmp_path / "b" / "config.yaml").read_text())
    first.pop("output_dir"), second.pop("output_dir")
    assert first == second
    m1 = json.loads((tmp_path / "a" / "summary.json").read_text())["metrics"]
    m2 = json.loads((tmp_path / "b" / "summary.json").read_text())["metrics"]
    assert m1["test_loss"] == pytest.approx(m2["test_loss"], rel=1e-5)  # same seed, same run


def test_finished_run_is_not_overwritten(example_plugin: None, ltx_train, tmp_path: Path) -> None:
    ltx_train("toy-classify", SAMPLES, "--max-steps", "2")
    before = (tmp_path / "run" / "summary.json").read_text()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    result = ltx_train("toy-classify", SAMPLES, check=False)
    assert result.exit_code == 2
    assert "already holds a finished run" in result.stderr
    assert (tmp_path / "run" / "summary.json").read_text() == before
    ltx_train("toy-classify", SAMPLES, "--max-steps", "3", "--overwrite")
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"  # never ours to delete
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["global_step"] == 3


def test_resume_continues_from_last(example_plugin: None, ltx_train) -> None:
    ltx_train("toy-classify", SAMPLES, "--max-epochs", "1")
    summary = ltx_train("toy-classify", SAMPLES, "--max-epochs", "2", "--resume").summary()
    assert summary["epochs"] == 2 and summary["global_step"] == 24  # 12 batches an epoch
    result = ltx_train("toy-classify", SAMPLES, "--resume", output_dir="new", check=False)
    assert result.exit_code == 2 and "Nothing to resume" in result.stderr


def test_test_and_predict_from_checkpoint_alone(example_plugin: None, ltx_train, ltx_cli) -> None:
    ckpt = str(ltx_train("toy-classify", SAMPLES, "--max-steps", "20").checkpoint)
    result = ltx_cli("test", "--ckpt", ckpt, "--json", "--accelerator", "cpu")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout[result.stdout.index("{") :])
    assert set(metrics) >= {"test_loss", "test_acc"}
    result = ltx_cli("predict", "--ckpt", ckpt, "1 2 3 4 5 6 7 8", "0 0 0 0 0 0 0 0")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [line["input"] for line in lines] == ["1 2 3 4 5 6 7 8", "0 0 0 0 0 0 0 0"]
    assert all(0 <= line["class"] < 2 for line in lines)


def test_not_a_checkpoint(example_plugin: None, ltx_cli, tmp_path: Path) -> None:
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    result = ltx_cli("test", "--ckpt", "junk.ckpt")
    assert result.exit_code == 2 and "not a readable checkpoint" in result.stderr


def test_ema_weights_are_validated_saved_and_resumed(
    example_plugin: None, ltx_train, ltx_cli, tmp_path: Path
) -> None:
    import torch

    ltx_train("toy-classify", SAMPLES, "--max-epochs", "1", "trainer.ema_decay=0.9")
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=False)
    # The average is what test / predict load; the raw weights are kept for --resume.
    assert {"current_model_state", "averaging_state"} <= set(ckpt)
    averaged, raw = ckpt["state_dict"], ckpt["current_model_state"]
    assert set(averaged) == set(raw)
    assert any(not torch.equal(averaged[k], raw[k]) for k in averaged)
    result = ltx_cli("test", "--ckpt", "run/checkpoints/last.ckpt", "--json")
    assert result.exit_code == 0, result.output
    # The run's own test scores the averaged weights of the checkpoint it tests, as
    # `ltx test --ckpt` does (not the raw weights the averaging callback keeps for resume).
    (best,) = (tmp_path / "run" / "checkpoints").glob("best-*.ckpt")
    scored = ltx_cli("test", "--ckpt", str(best), "--json")
    assert scored.exit_code == 0, scored.output
    in_run = json.loads((tmp_path / "run" / "summary.json").read_text())["metrics"]
    from_ckpt = json.loads(scored.stdout)
    assert in_run["test_loss"] == pytest.approx(from_ckpt["test_loss"], rel=1e-5)
    resumed = ltx_train("toy-classify", SAMPLES, "--max-epochs", "2", "--resume",
                        "trainer.ema_decay=0.9")  # fmt: skip
    assert resumed.summary()["global_step"] == 24
    bad = ltx_train("toy-classify", SAMPLES, "trainer.ema_decay=1.5", output_dir="bad", check=False)
    assert bad.exit_code == 2 and "ema_decay" in bad.stderr
