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
