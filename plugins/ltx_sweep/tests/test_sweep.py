"""``ltx sweep``: a small Optuna study over the demo task, through the CLI — outputs,
parallel worker processes and their failures, kill -9 and resume, a PostgreSQL study
shared by two sweep processes, pruning of a diverging trial, and the space file's checks."""

from __future__ import annotations

import csv
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ltx_core.cli.testing import QUIET as LTX_QUIET
from ltx_core.cli.testing import run_ltx_process, start_ltx_process
from ltx_core.errors import LtxError, RunInterrupted

from .postgres import postgres_server

# The small v2-API demo plugin of ltx's own tests: a task that sweeps in seconds; in a
# fresh process it is registered as ``ltx_plugin`` registers it here.
SUPPORT = Path(__file__).resolve().parents[3] / "tests" / "support"
DEMO = [("demo", "ltx_demo_v2", "ltx-demo-v2", "2.0.0")]
SPACE = "optimizer.lr: {low: 1.0e-3, high: 1.0e-1, log: true}\nbackbone.hidden: [4, 8, 16]\n"
# No time-based checkpoints either: a slow machine must not change what a trial writes.
QUIET = [*LTX_QUIET, "trainer.checkpoint_every_minutes=null"]


def _sweep_args(out: Path, trials: int, *extra: str, steps: int = 20) -> list[str]:
    return ["sweep", "demo-classify", "--space", "space.yaml", "--trials", str(trials),
            "--metric", "val_acc", "--direction", "maximize", "-o", str(out),
            "--max-steps", str(steps), *QUIET, *extra]  # fmt: skip


def _popen(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    """``ltx ARGS`` with the demo plugin, in a fresh process (to kill, or run two at once)."""
    return start_ltx_process(*args, cwd=cwd, path=[SUPPORT], plugins=DEMO)


def _finish(proc: subprocess.Popen[str], timeout: int = 300) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-3000:] + err[-3000:]
    return out


def _rows(sweep: Path) -> list[dict[str, str]]:
    with (sweep / "trials.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def _study(sweep: Path, storage: str | None = None):  # type: ignore[no-untyped-def]
    import optuna

    url = storage or f"sqlite:///{sweep / 'study.db'}"
    return optuna.load_study(study_name=sweep.name, storage=url)


def _is_png(path: Path) -> bool:
    from matplotlib import image

    pixels = image.imread(path)  # decodes the whole file: a real picture
    return pixels.shape[0] > 100 and pixels.shape[1] > 100 and float(pixels.std()) > 0


@pytest.mark.slow
def test_four_trials_in_two_worker_processes(tmp_path: Path) -> None:
    (tmp_path / "space.yaml").write_text(SPACE)
    sweep = tmp_path / "sw"
    out = _finish(_popen(_sweep_args(sweep, 4, "--parallel", "2"), tmp_path))
    rows = _rows(sweep)
    assert sorted(int(r["number"]) for r in rows) == [0, 1, 2, 3]
    assert {r["state"] for r in rows} == {"complete"}
    for row in rows:  # each trial a normal run directory, with the sampled values
        run = sweep / "trials" / row["number"]
        assert (run / "summary.json").is_file() and (run / "metrics.csv").is_file()
        assert f"lr: {float(row['optimizer.lr'])}" in (run / "config.yaml").read_text()
        assert 1e-3 <= float(row["optimizer.lr"]) <= 1e-1 and row["backbone.hidden"] in "4816"
    # The two processes shared the work (each trial records the process that ran it).
    assert len({t.user_attrs["ltx.pid"] for t in _study(sweep).trials}) == 2
    best = max(rows, key=lambda r: float(r["val_acc"]))
    assert f"Best: trial {best['number']}" in out and "number  state     val_acc" in out
    # best.yaml is a config `ltx train --config` takes: ltx config validates it.
    check = run_ltx_process(
        "config", "--config", str(sweep / "best.yaml"), cwd=tmp_path, path=[SUPPORT], plugins=DEMO
    )
    assert check.returncode == 0, check.stderr
    assert (
        "output_dir: null" in check.stdout and f"hidden: {best['backbone.hidden']}" in check.stdout
    )
    for name in ("optimization_history", "param_importances", "parallel_coordinate"):
        assert _is_png(sweep / "plots" / f"{name}.png"), name


@pytest.mark.slow
def test_workers_that_fail_say_so_and_the_sweep_exits_with_their_code(tmp_path: Path) -> None:
    (tmp_path / "space.yaml").write_text(SPACE)
    args = _sweep_args(tmp_path / "sw", 2, "--parallel", "2", steps=5)
    args[args.index("--metric") + 1] = "val_accc"
    proc = _popen(args, tmp_path)
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err[-3000:]
    said = [line for line in err.splitlines() if line.startswith("Error: worker ")]
    assert said and all("The metric 'val_accc' was not logged by trial" in s for s in said), err
    assert f"{len(said)} of 2 sweep workers failed (their messages are above)." in err
    assert "Traceback" not in err


def _fails(how: str) -> None:
    if how == "mistake":
        raise LtxError("The space is wrong.")
    if how == "signal":
        raise RunInterrupted("The sweep was interrupted.")
    if how == "ctrl-c":
        raise KeyboardInterrupt
    if how == "bug":
        raise RuntimeError("boom\nsecond line")


@pytest.mark.parametrize(
    ("how", "code", "said"),
    [
        ("mistake", 2, "Error: worker 3: The space is wrong."),
        ("signal", 130, "Error: worker 3: The sweep was interrupted."),
        ("ctrl-c", 130, ""),
        ("bug", 1, "Error: worker 3: unexpected RuntimeError: boom\\nsecond line "
                   "(set LTX_DEBUG=1 for details)"),
    ],
)  # fmt: skip
def test_a_worker_says_one_sentence_and_exits_with_its_code(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: str,
    code: int,
    said: str,
) -> None:
    from ltx_sweep import study

    monkeypatch.delenv("LTX_DEBUG", raising=False)
    monkeypatch.setattr(study, "_work", lambda plan, salt: _fails(how))
    with pytest.raises(SystemExit) as exited:
        study._worker_process(None, 3)  # type: ignore[arg-type]
    assert exited.value.code == code
    assert capsys.readouterr().err == (said + "\n" if said else "")


@pytest.mark.parametrize(
    ("workers", "failed", "code"),
    [(["ok", "bug"], 1, 1), (["bug", "mistake"], 2, 2), (["mistake", "ctrl-c"], 2, 130)],
)
def test_the_launching_process_reports_its_failed_workers(
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    workers: list[str],
    failed: int,
    code: int,
) -> None:
    from types import SimpleNamespace

    from ltx_sweep import study

    monkeypatch.delenv("LTX_DEBUG", raising=False)
    # The workers are forked: each inherits this stand-in for the trial loop.
    monkeypatch.setattr(study, "_work", lambda plan, salt: _fails(workers[_index(salt)]))
    plan = SimpleNamespace(settings=SimpleNamespace(parallel=len(workers)))
    with pytest.raises(LtxError) as raised:
        study._run_parallel(plan)  # type: ignore[arg-type]
    assert str(raised.value) == (
        f"{failed} of {len(workers)} sweep workers failed (their messages are above)."
    )
    assert raised.value.exit_code == code
    err = capfd.readouterr().err
    assert "Traceback" not in err
    if "bug" in workers:
        assert f"Error: worker {workers.index('bug')}: unexpected RuntimeError: boom" in err


def _index(salt: int) -> int:
    """A worker's index from the salt ``_worker_process`` gives its trial loop."""
    return salt // 1000 - 1


@pytest.mark.slow
def test_sweep_killed_after_two_trials_resumes_and_finishes(tmp_path: Path) -> None:
    (tmp_path / "space.yaml").write_text(SPACE)
    sweep = tmp_path / "sw"
    # Trials long enough (a few epochs) that the kill lands inside trial 2.
    args = _sweep_args(sweep, 4, "dataset.samples=1200", steps=40)
    proc = _popen(args, tmp_path)
    third = sweep / "trials" / "2" / "config.yaml"
    deadline = time.monotonic() + 240
    while not third.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "trial 2 never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    states = {t.number: t.state.name for t in _study(sweep).trials}
    assert states == {0: "COMPLETE", 1: "COMPLETE", 2: "RUNNING"}, states

    _finish(_popen(args, tmp_path))
    study = _study(sweep)
    by_number = {t.number: t for t in study.trials}
    assert by_number[2].state.name == "FAIL"  # its process died: failed, then retried
    retry = next(t for t in study.trials if t.system_attrs.get("failed_trial") == 2)
    assert retry.params == by_number[2].params and retry.state.name == "COMPLETE"
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(complete) == 4 and len(study.trials) == 5  # 0, 1, the retry of 2, one more
    notes = {r["number"]: r["note"] for r in _rows(sweep)}
    assert notes["2"] == f"its process died; retried as trial {retry.number}"


@pytest.mark.slow
def test_postgres_study_shared_by_two_sweep_processes(tmp_path: Path) -> None:
    (tmp_path / "space.yaml").write_text(SPACE)
    with postgres_server() as url:
        # No pruner: the sixth trial may start after five have completed, and the median
        # pruner's verdict on it would depend on the parameters this run drew.
        shared = ["--storage", url, "--study-name", "shared", "--pruner", "none"]
        a, b = tmp_path / "machine-a", tmp_path / "machine-b"
        procs = [_popen(_sweep_args(d, 6, *shared), tmp_path) for d in (a, b)]
        outs = [_finish(p) for p in procs]
        import optuna

        study = optuna.load_study(study_name="shared", storage=url.replace("://", "+psycopg://"))
        trials = [t for t in study.trials if not t.user_attrs.get("ltx.surplus")]
        assert sorted(t.number for t in trials) == list(range(6))
        assert all(t.state.name == "COMPLETE" for t in trials)
    ran = {d.name: {p.name for p in (d / "trials").iterdir()} for d in (a, b)}
    assert not ran["machine-a"] & ran["machine-b"]  # each trial ran once, in one place
    assert sorted(int(n) for n in ran["machine-a"] | ran["machine-b"]) == list(range(6))
    assert ran["machine-a"] and ran["machine-b"], ran  # both took part
    for out in outs:  # each machine's table shows the whole study
        assert "6 trials (6 complete)" in out


@pytest.mark.slow
def test_pruning_stops_a_diverging_trial_early_and_a_nan_trial_fails_with_its_reason(
    tmp_path: Path, ltx_cli: Callable[..., Any], demo_plugin: None
) -> None:
    import optuna

    (tmp_path / "space.yaml").write_text("optimizer.lr: {low: 1.0e-3, high: 1.0e+4, log: true}\n")
    sweep = tmp_path / "sw"
    sweep.mkdir()
    # Trials queued with Optuna's own API before the sweep starts: three sensible rates,
    # then one that makes the loss grow (finite: the pruner's), then one that makes it NaN
    # (the run stops itself there, and the sweep goes on).
    study = optuna.create_study(
        study_name="sw", storage=f"sqlite:///{sweep / 'study.db'}", direction="minimize"
    )
    for lr in (0.02, 0.03, 0.05, 30.0, 1.0e4):
        study.enqueue_trial({"optimizer.lr": lr})
    args = ["sweep", "demo-classify", "--space", "space.yaml", "--trials", "5",
            "--metric", "val_loss", "--direction", "minimize", "-o", str(sweep),
            "--max-steps", "30", "--pruner-startup", "3", "--pruner-warmup", "1",
            *QUIET]  # fmt: skip
    result = ltx_cli(*args)
    assert result.exit_code == 0, result.output
    rows = {r["number"]: r for r in _rows(sweep)}
    assert [rows[n]["state"] for n in "01234"] == ["complete"] * 3 + ["pruned", "fail"], rows
    assert all(rows[n]["steps"] == "30" for n in "012")  # validated every 5 steps (an epoch)
    assert int(rows["3"]["steps"]) <= 15  # stopped at its second or third validation
    assert "pruned after validation" in rows["3"]["note"]
    summary = (sweep / "trials" / "3" / "summary.json").read_text()
    assert '"stopped_by": "pruned"' in summary
    assert rows["4"]["note"].startswith("The training loss became nan at step"), rows["4"]
    assert "lower optimizer.lr (it is 10000)" in rows["4"]["note"]
    assert _is_png(sweep / "plots" / "intermediate_values.png")
    # The same command again: the sweep is complete, nothing runs, the table is printed.
    again = ltx_cli(*args)
    assert again.exit_code == 0 and "5 trials (3 complete, 1 fail, 1 pruned)" in again.output
    assert sorted(p.name for p in (sweep / "trials").iterdir()) == ["0", "1", "2", "3", "4"]
    # Another metric or direction is another sweep: refused, not mixed into this one.
    other = [*args, "optimizer.weight_decay=0.0"]
    other[other.index("--direction") + 1] = "maximize"
    changed = ltx_cli(*other)
    assert changed.exit_code == 2
    assert (
        "was started with another sweep (direction: 'minimize' -> 'maximize'; "
        "optimizer.weight_decay: 0.01 -> 0.0)" in changed.stderr
    )


@pytest.mark.slow
def test_a_misspelt_metric_stops_the_sweep_and_the_corrected_command_continues(
    tmp_path: Path, ltx_cli: Callable[..., Any], demo_plugin: None
) -> None:
    (tmp_path / "space.yaml").write_text(SPACE)
    args = _sweep_args(tmp_path / "sw", 2, steps=5)
    wrong = [*args]
    wrong[wrong.index("--metric") + 1] = "val_accc"
    result = ltx_cli(*wrong)
    assert result.exit_code == 2
    assert "The metric 'val_accc' was not logged by trial 0" in result.stderr
    assert "val_acc, val_loss); give --metric one of those." in result.stderr
    fixed = ltx_cli(*args)
    assert fixed.exit_code == 0, fixed.output
    rows = {r["number"]: r for r in _rows(tmp_path / "sw")}
    assert rows["0"]["note"] == "no metric 'val_accc'; retried as trial 1"
    assert rows["1"]["note"] == "retry of trial 0" and rows["1"]["state"] == "complete"
    assert rows["1"]["optimizer.lr"] == rows["0"]["optimizer.lr"]
    assert rows["2"]["state"] == "complete" and len(rows) == 3


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ("optimizer.lrr: {low: 0.001, high: 0.1}", "Unknown key 'optimizer.lrr'. Did you mean 'lr'?"),
        ("backbone.hidden: {low: 2.0, high: 16.0}", "it takes whole numbers; give integer bounds"),
        ("optimizer.lr: {low: -1.0, high: 0.1}", "(low: -1.0): Bad value -1.0 for 'optimizer.lr'"),
        ("optimizer.name: [adamw, lion]", "(choice 2: 'lion'): Bad value 'lion'"),
        ("optimizer.lr: {low: 0.001}", "a range needs both low and high"),
        ("optimizer.lr: {low: 0.001, high: 0.1, lg: true}", "unknown setting 'lg'. Did you mean 'log'?"),
        ("optimizer.lr: 0.01", "a fixed value is an override on the command line"),
        ("output_dir: [a, b]", "the sweep chooses each trial's folder itself"),
        ("[1, 2]", "must map config keys to distributions"),
    ],
)  # fmt: skip
def test_space_mistakes_exit_2_before_any_trial(
    tmp_path: Path, ltx_cli: Callable[..., Any], demo_plugin: None, space: str, message: str
) -> None:
    (tmp_path / "space.yaml").write_text(space + "\n")
    result = ltx_cli(*_sweep_args(tmp_path / "sw", 2))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "sw").exists()  # nothing was started


def test_sweep_option_mistakes_exit_2(
    tmp_path: Path, ltx_cli: Callable[..., Any], demo_plugin: None
) -> None:
    (tmp_path / "space.yaml").write_text(SPACE)
    for extra, message in [
        (["--trials", "0"], "--trials must be at least 1"),
        (["--direction", "up"], "--direction is maximize or minimize"),
        (["--space", "nope.yaml"], "Space file 'nope.yaml' does not exist"),
        (["--sampler", "grid"], "--sampler grid takes a space of lists only"),
        (["--storage", "postgresql://u@127.0.0.1:1/x"], "Cannot open the study storage"),
    ]:
        args = _sweep_args(tmp_path / "sw", 2)
        for i in range(0, len(extra), 2):  # a later option replaces the earlier one
            if extra[i] in args:
                args[args.index(extra[i]) + 1] = extra[i + 1]
            else:
                args += extra[i : i + 2]
        result = ltx_cli(*args)
        assert result.exit_code == 2, (extra, result.output)
        assert message in result.stderr, (extra, result.stderr)
