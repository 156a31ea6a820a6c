"""The ltx conformance kit on this plugin: specs, configs, torch-free listing, a CPU run;
then prediction from the command line.

The fixtures and the ``ltx_conformance`` marker come from ltx-core's pytest plugin."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.ltx_conformance("toy")


@pytest.fixture(autouse=True)
def _ltx(ltx_env):
    yield  # each test in its own folder and registry


def test_conformance(ltx_case, tmp_path):
    ltx_case(tmp_path)


def test_predict_from_the_command_line(ltx_train, ltx_cli):
    # A short, quiet CPU run in this process; ltx_train asserts that it succeeds.
    ckpt = str(ltx_train("toy-classify", "--max-steps", "3").checkpoint)
    done = ltx_cli("predict", "--ckpt", ckpt, "1 2 3 4 5 6 7 8", "--set", "scores=true")
    assert done.exit_code == 0, done.output
    assert '"class"' in done.stdout and '"scores"' in done.stdout
    bad = ltx_cli("predict", "--ckpt", ckpt, "1 2 3")
    assert bad.exit_code == 2 and "the model takes 8" in bad.stderr
