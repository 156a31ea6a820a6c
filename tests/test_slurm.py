"""``docs/examples/slurm.sbatch`` run word for word on one machine.

There is no SLURM here, so two stand-ins go on ``PATH``: an ``srun`` that starts
``SLURM_NTASKS`` copies of its command with the variables srun gives each task
(``SLURM_PROCID``, ``SLURM_LOCALID``, ``SLURM_NODEID``), and an ``scontrol`` that records
how it was called. Everything else is real: the script, ``ltx train``, Lightning's
``SLURMEnvironment`` (which picks the rendezvous port from ``SLURM_JOB_ID`` and the address
from ``SLURM_NODELIST``), its requeue handler on ``SIGUSR1``, and ltx's ``SIGTERM`` path.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ltx_core.cli.testing import QUIET, run_ltx_process

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "docs" / "examples" / "slurm.sbatch"
PAGE = ROOT / "docs" / "scaling.md"
BIN = Path(sys.executable).parent

SRUN = """#!/bin/bash
# Stand-in for srun on one machine: SLURM_NTASKS tasks with the variables srun sets.
pids=()
for ((i = 0; i < SLURM_NTASKS; i++)); do
    SLURM_PROCID=$i SLURM_LOCALID=$((i % SLURM_NTASKS_PER_NODE)) \\
        SLURM_NODEID=$((i / SLURM_NTASKS_PER_NODE)) "$@" &
    pids+=($!)
    echo $! >> "$SRUN_PIDS"
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
exit $rc
"""
SCONTROL = """#!/bin/bash
echo "$@" >> "$SCONTROL_LOG"
"""


def test_page_shows_the_script_verbatim() -> None:
    script = SCRIPT.read_text(encoding="utf-8")
    assert f"```text\n{script}```" in PAGE.read_text(encoding="utf-8")
    assert "#SBATCH --signal=SIGUSR1@90" in script and "srun ltx train" in script


def _job_id() -> str:
    """A job id whose port (Lightning: 15000 + its last four digits) is free now."""
    for _ in range(200):
        port = random.randint(15000, 24999)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return f"7{port - 15000:04d}"
    raise RuntimeError("no free port in 15000-24999")


def _cluster(tmp_path: Path, tasks: int) -> dict[str, str]:
    """The environment of an sbatch job of ``tasks`` nodes with one task each."""
    fake = tmp_path / "fake-bin"
    fake.mkdir(exist_ok=True)
    for name, text in (("srun", SRUN), ("scontrol", SCONTROL)):
        (fake / name).write_text(text)
        (fake / name).chmod(0o755)
    env = {**os.environ}
    for var in [v for v in env if v.startswith(("SLURM_", "MASTER_", "LTX_RUN_DIR"))]:
        del env[var]
    for var in ("LOCAL_RANK", "RANK", "WORLD_SIZE", "NODE_RANK"):
        env.pop(var, None)
    env.update(
        PATH=f"{fake}{os.pathsep}{BIN}{os.pathsep}{os.environ['PATH']}",
        OMP_NUM_THREADS="1",
        SRUN_PIDS=str(tmp_path / "srun.pids"),
        SCONTROL_LOG=str(tmp_path / "scontrol.log"),
        SLURM_JOB_ID=_job_id(),
        SLURM_JOB_NAME="ltx",
        SLURM_NNODES=str(tasks),
        SLURM_NTASKS=str(tasks),
        SLURM_NTASKS_PER_NODE="1",
        SLURM_NODELIST="127.0.0.1",
    )
    return env


def _config(tmp_path: Path, env: dict[str, str]) -> Path:
    """run.yaml as the page makes it, for CPUs."""
    made = run_ltx_process(
        "config", "igpt", "--accelerator", "cpu", *QUIET, "trainer.checkpoint_every_n_steps=5",
        cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    (tmp_path / "run.yaml").write_text(made.stdout)
    return tmp_path / "run.yaml"


def _sbatch(tmp_path: Path, env: dict[str, str], *flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["bash", str(SCRIPT), "run.yaml", *flags], cwd=tmp_path, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.slow
def test_two_tasks_train_as_two_slurm_nodes(tmp_path: Path) -> None:
    env = _cluster(tmp_path, tasks=2)
    _config(tmp_path, env)
    job = _sbatch(tmp_path, env, "--max-steps", "30")
    stdout, stderr = job.communicate(timeout=600)
    assert job.returncode == 0, stdout[-3000:] + stderr[-3000:]
    assert len((tmp_path / "srun.pids").read_text().split()) == 2  # two processes
    run = tmp_path / "runs" / f"slurm-{env['SLURM_JOB_ID']}"
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [run.name]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["cluster_environment"] == "SLURMEnvironment"
    assert summary["world_size"] == 2 and summary["num_nodes"] == 2
    assert summary["global_step"] == 30
    assert {"test_loss", "test_acc"} <= set(summary["metrics"])
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert not (tmp_path / "scontrol.log").exists()  # no signal, no requeue


def _pids(tmp_path: Path) -> list[int]:
    path = tmp_path / "srun.pids"
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _wait_for(what: str, check, proc: subprocess.Popen[str], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert proc.poll() is None, (what, proc.communicate())
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.2)


@pytest.mark.slow
def test_requeue_signal_then_sigterm_then_resume(tmp_path: Path) -> None:
    env = _cluster(tmp_path, tasks=1)
    _config(tmp_path, env)
    run = tmp_path / "runs" / f"slurm-{env['SLURM_JOB_ID']}"
    job = _sbatch(tmp_path, env, "--max-steps", "100000")
    _wait_for("a step checkpoint", (run / "checkpoints" / "last.ckpt").exists, job)
    [pid] = _pids(tmp_path)

    # SLURM's warning before the time limit: Lightning saves and requeues; training goes on.
    os.kill(pid, signal.SIGUSR1)
    _wait_for("Lightning's requeue", (tmp_path / "scontrol.log").exists, job)
    assert (tmp_path / "scontrol.log").read_text().split() == ["requeue", env["SLURM_JOB_ID"]]
    assert (run / "hpc_ckpt_1.ckpt").is_file()
    assert job.poll() is None  # still training

    # The requeued job is stopped: ltx's own SIGTERM path saves and says how to go on.
    time.sleep(1.0)
    os.kill(pid, signal.SIGTERM)
    stdout, stderr = job.communicate(timeout=120)
    assert job.returncode == 130, stdout[-3000:] + stderr[-3000:]
    assert "Traceback" not in stderr and "--resume" in stderr
    summary = json.loads((run / "summary.json").read_text())
    assert (
        summary["stopped_by"] == "signal" and summary["cluster_environment"] == "SLURMEnvironment"
    )
    step = summary["global_step"]

    # The job runs again with SLURM_RESTART_COUNT set: the script resumes from last.ckpt.
    (tmp_path / "srun.pids").unlink()
    again = _sbatch(tmp_path, {**env, "SLURM_RESTART_COUNT": "1"}, "--max-steps", str(step + 5))
    stdout, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stdout[-3000:] + stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["resumed_from_step"] == step and summary["global_step"] == step + 5
    assert (run / "hpc_ckpt_1.ckpt").is_file()  # Lightning's file, left in place
