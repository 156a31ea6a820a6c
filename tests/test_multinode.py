"""Two nodes under torchrun on the loopback address: the two commands of ``docs/scaling.md``
run for real, as two node processes on one machine sharing one run directory.

Checked: world size 2 over 2 nodes from what the run records, one run directory written
once (rank 0's files only, nothing clobbered by rank 1), and metrics reduced across the
ranks: the test loss the two nodes logged equals the one a single process computes over
the whole test split from the same checkpoint.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ltx_core.cli.testing import QUIET

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "scaling.md"
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nothing listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def torchrun_commands(page: Path = PAGE) -> list[str]:
    """The page's torchrun lines, node 0 first."""
    return [
        line
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith("torchrun --")
    ]


FENCE = re.compile(r"^```bash\n(.*?)^```$", re.M | re.S)


def page_commands(page: Path = PAGE) -> list[str]:
    """The page's other CPU commands (``bash`` blocks), in order."""
    blocks = FENCE.findall(page.read_text(encoding="utf-8"))
    lines = [line for block in blocks for line in block.splitlines() if line.strip()]
    return [line for line in lines if not line.startswith("torchrun --")]


def test_page_shows_one_command_per_node() -> None:
    commands = torchrun_commands()
    assert len(commands) == 2
    for rank, command in enumerate(commands):
        argv = shlex.split(command)
        assert argv[argv.index("--node-rank") + 1] == str(rank)
        assert argv[argv.index("--nnodes") + 1] == "2"
        assert argv[argv.index("--master-addr") + 1] == "127.0.0.1"
        ltx = argv[argv.index("--no-python") + 1 :]
        assert ltx[:2] == ["ltx", "train"]
        assert ltx[ltx.index("--num-nodes") + 1] == "2" and ltx[ltx.index("--devices") + 1] == "1"
    # The same ltx command on both nodes, only the node rank differs.
    assert commands[0].replace("--node-rank 0", "--node-rank 1") == commands[1]


@pytest.mark.slow
def test_two_nodes_on_loopback(tmp_path: Path, run_ltx) -> None:
    port = free_port()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "OMP_NUM_THREADS": "1"}
    for var in ("LTX_RUN_DIR", "LOCAL_RANK", "RANK", "WORLD_SIZE", "MASTER_PORT", "MASTER_ADDR"):
        env.pop(var, None)
    nodes = []
    for command in torchrun_commands():
        argv = shlex.split(re.sub(r"--master-port \d+", f"--master-port {port}", command))
        argv[0] = str(BIN / "torchrun")
        # Without an EMA: the run tests its raw weights, ltx test the saved average (a known
        # difference of trainer.ema_decay, not of scaling out).
        argv += [*QUIET, "trainer.ema_decay=null"]
        nodes.append(
            subprocess.Popen(argv, cwd=tmp_path, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        )  # fmt: skip
    outputs = [node.communicate(timeout=600) for node in nodes]
    for node, (stdout, stderr) in zip(nodes, outputs, strict=True):
        assert node.returncode == 0, stdout[-3000:] + stderr[-3000:]

    # One run directory, holding exactly what ltx writes.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["two-nodes"]
    run = tmp_path / "runs" / "two-nodes"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["num_nodes"] == 2
    assert summary["cluster_environment"] == "TorchElasticEnvironment"
    assert summary["strategy"] == "DDPStrategy"
    assert summary["global_step"] == 30 and summary["stopped_by"] == "max_steps"

    # Checkpoints written once: no leftover temporary file of a second writer.
    ckpts = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert "last.ckpt" in ckpts and not [n for n in ckpts if n.endswith(".tmp")], ckpts
    assert all(n == "last.ckpt" or n.startswith("best-") for n in ckpts), ckpts
    # metrics.csv from one writer: one header, each logged step once.
    with (run / "metrics.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert (run / "metrics.csv").read_text().count("epoch,") <= 1
    train_steps = [r["step"] for r in rows if r.get("train_loss")]
    assert train_steps and len(train_steps) == len(set(train_steps))
    # config.yaml is the run's config, intact.
    saved = (run / "config.yaml").read_text()
    assert "num_nodes: 2" in saved and "max_steps: 30" in saved

    # Reduced across ranks: each node tested half of the split; their average (what rank 0
    # logged) is the loss over the whole split, as one process computes it.
    tested_with = summary["checkpoints"]["best"] or summary["checkpoints"]["last"]
    single = run_ltx("test", "--ckpt", tested_with, "--json", "--accelerator", "cpu",
                     cwd=tmp_path, env={"OMP_NUM_THREADS": "2"})  # fmt: skip
    assert single.returncode == 0, single.stderr[-3000:]
    whole = json.loads(single.stdout)
    assert summary["metrics"]["test_loss"] == pytest.approx(whole["test_loss"], rel=1e-4)
    assert summary["metrics"]["test_acc"] == pytest.approx(whole["test_acc"], abs=1e-6)


@pytest.mark.slow
def test_page_commands_word_for_word(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "OMP_NUM_THREADS": "1"}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    env.pop("LTX_RUN_DIR", None)
    commands = page_commands()
    assert any("--devices 2 --strategy ddp" in c for c in commands)
    assert any("dataset.streaming=true" in c for c in commands)
    for command in commands:
        proc = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, text=True,
                              capture_output=True, timeout=600)  # fmt: skip
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    ddp = json.loads((tmp_path / "runs" / "ddp" / "summary.json").read_text())
    assert ddp["world_size"] == 2 and ddp["global_step"] == 30
    streamed = json.loads((tmp_path / "runs" / "streamed" / "summary.json").read_text())
    assert streamed["global_step"] == 10 and streamed["stopped_by"] == "max_steps"
