"""Resuming a run: a changed config is shown key by key and refused unless allowed;
changing only how long it runs is fine."""

from __future__ import annotations


def test_changed_config_is_refused_with_the_difference(demo_plugin: None, ltx_train) -> None:
    ltx_train("demo-classify")
    result = ltx_train("demo-classify", "--resume", "--max-steps", "8", "optimizer.lr=0.5",
                       check=False)  # fmt: skip
    assert result.exit_code == 2, result.output
    msg = " ".join(result.output.split())
    assert "optimizer.lr: 0.02 -> 0.5" in msg and "--allow-changes" in msg, msg
    assert "max_steps" not in msg  # safe to change: not listed as a problem
    allowed = ltx_train("demo-classify", "--resume", "--max-steps", "8", "optimizer.lr=0.5",
                        "--allow-changes", check=False)  # fmt: skip
    assert allowed.exit_code == 0, allowed.output
    summary = allowed.summary()
    assert summary["resumed_from_step"] == 6 and summary["global_step"] == 8


def test_allow_changes_needs_resume(demo_plugin: None, ltx_train) -> None:
    result = ltx_train("demo-classify", "--allow-changes", check=False)
    assert result.exit_code == 2 and "--allow-changes goes with --resume" in result.output


def test_resume_keeps_the_earlier_metrics(demo_plugin: None, ltx_train) -> None:
    import csv

    out = ltx_train("demo-classify", "trainer.log_every_n_steps=1").dir
    before = list(csv.DictReader((out / "metrics.csv").open()))
    resumed = ltx_train("demo-classify", "--resume", "--max-steps", "9",
                        "trainer.log_every_n_steps=1", check=False)  # fmt: skip
    assert resumed.exit_code == 0, resumed.output
    after = list(csv.DictReader((out / "metrics.csv").open()))
    assert after[: len(before)] == [{**{k: "" for k in after[0]}, **row} for row in before]
    steps = [int(r["step"]) for r in after if r.get("step")]
    assert max(steps) >= 8 and min(steps) == 0


def test_a_run_stopped_by_max_steps_resumes_inside_its_epoch(
    demo_plugin: None, ltx_train, tmp_path
) -> None:
    """--max-steps 3, then --resume --max-steps 30: the same weights as 30 steps at once.
    The stop falls inside the first epoch (25 batches), so the resumed run must continue
    that epoch's order (the rest of its batches), then read the second epoch's."""
    import torch

    # A constant rate: a linear one would decay over 3 steps in the first part.
    args = ("dataset.samples=400", "dataset.batch_size=16", "scheduler.name=constant")
    whole = ltx_train("demo-classify", *args, "--max-steps", "30", output_dir="whole")
    ltx_train("demo-classify", *args, "--max-steps", "3", output_dir="parts")
    resumed = ltx_train("demo-classify", *args, "--max-steps", "30", "--resume",
                        output_dir="parts")  # fmt: skip
    assert resumed.summary()["resumed_from_step"] == 3
    a = torch.load(whole.checkpoint, weights_only=True)
    b = torch.load(resumed.checkpoint, weights_only=True)
    assert a["global_step"] == b["global_step"] == 30
    assert a["epoch"] == b["epoch"], (a["epoch"], b["epoch"])
    for key, value in a["state_dict"].items():
        assert torch.allclose(value, b["state_dict"][key], atol=1e-6), key
