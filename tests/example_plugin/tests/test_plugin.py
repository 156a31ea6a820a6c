"""The ltx conformance kit on this plugin: specs, configs, torch-free listing, a CPU run.

The fixtures and the ``ltx_conformance`` marker come from ltx-core's pytest plugin."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.ltx_conformance("toy")


@pytest.fixture(autouse=True)
def _ltx(ltx_env):
    yield  # each test in its own folder, cache and registry


def test_conformance(ltx_case, tmp_path):
    ltx_case(tmp_path)


def test_predict_from_the_command_line(ltx_cli, tmp_path):
    short = ["--max-steps", "3", "--accelerator", "cpu", "-o", "run"]
    quiet = ["trainer.enable_progress_bar=false", "trainer.tensorboard=false"]
    train = ltx_cli("train", "toy-classify", *short, *quiet)
    assert train.exit_code == 0, train.output
    ckpt = str(tmp_path / "run" / "checkpoints" / "last.ckpt")
    done = ltx_cli("predict", "--ckpt", ckpt, "1 2 3 4 5 6 7 8", "--set", "scores=true")
    assert done.exit_code == 0, done.output
    assert '"class"' in done.stdout and '"scores"' in done.stdout
    bad = ltx_cli("predict", "--ckpt", ckpt, "1 2 3")
    assert bad.exit_code == 2 and "the model takes 8" in bad.stderr
