"""SIGTERM (preemption) and Ctrl-C save the run, finish its directory, say how to resume
and exit non-zero; the resumed run carries on from the saved step."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from ltx_core.cli.testing import QUIET, start_ltx_process

from .conftest import DEMO, SUPPORT


def _as_from_a_shell() -> None:
    """The child's signals as a shell's foreground job has them: a process inherits
    ignored and blocked signals, and a test worker may have either for SIGINT (a library
    that ignores Ctrl-C while it cleans up, a mask around spawning a helper), which
    would make the child deaf to the signal this test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def _ltx(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """``ltx ARGS`` with the demo plugin, in a process of its own (to be signalled)."""
    return start_ltx_process(
        *args, cwd=cwd, path=[SUPPORT], plugins=[DEMO], preexec_fn=_as_from_a_shell
    )


def _signal_state(pid: int) -> str:
    """SigBlk / SigIgn / SigPnd of a process, for a failure message."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return "(no /proc)"
    lines = status.read_text().splitlines()
    return "; ".join(line for line in lines if line.startswith(("SigBlk", "SigIgn", "SigPnd")))


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_saves_and_resumes(sig: signal.Signals, tmp_path: Path) -> None:
    out = tmp_path / "run"
    # Many short epochs and a step checkpoint: the signal lands mid-run.
    run_args = [*QUIET, "dataset.samples=3000", "trainer.checkpoint_every_n_steps=20"]
    args = ["train", "demo-classify", "--max-steps", "100000", "-o", str(out), *run_args]
    proc = _ltx(*args, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not (out / "checkpoints" / "last.ckpt").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(sig)
    try:
        stdout, stderr = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        state = _signal_state(proc.pid)
        proc.kill()
        raise AssertionError(f"no exit 120 s after {sig.name}: {state}") from None
    assert proc.returncode == 130, stdout[-2000:] + stderr[-2000:]
    assert "--resume" in stderr and "Traceback" not in stderr, stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_by"] == "signal"
    step = summary["global_step"]
    assert step > 20
    saved = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)
    assert saved["global_step"] == step
    assert not list((out / "checkpoints").glob("*.tmp"))
    resumed = _ltx("train", "demo-classify", "--max-steps", str(step + 5), "-o", str(out),
                   "--resume", *run_args, cwd=tmp_path)  # fmt: skip
    r_out, r_err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, r_out[-2000:] + r_err[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["resumed_from_step"] == step and summary["global_step"] == step + 5
