"""``ltx test`` without ``--ckpt`` in the core: the task decides whether a model it did not
train can be scored (the default refuses, in one sentence), and the command's own
mistakes are one sentence and exit 2. Scoring real Hugging Face models is tested in
``plugins/ltx_nlp_hf/tests/test_evaluate_hf.py``."""

from __future__ import annotations

import pytest


def _message(result: object) -> str:
    return " ".join(str(getattr(result, "stderr", "")).split())  # the test console wraps


def test_a_task_that_does_not_opt_in_is_refused(ltx_cli, demo_plugin: None) -> None:
    result = ltx_cli("test", "demo-classify", "--accelerator", "cpu")
    assert result.exit_code == 2, result.output
    assert "scores only models it trained; use ltx test --ckpt CHECKPOINT." in _message(result)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "Give --ckpt CHECKPOINT, or a TASK"),
        (["--ckpt", "x.ckpt", "demo-classify"], "drop 'demo-classify'"),
        (["--ckpt", "x.ckpt", "--dataset", "demo-points"], "drop 'demo-points'"),
        (["--ckpt", "missing.ckpt", "dataset.samples=10"], "does not exist"),
    ],
)
def test_test_command_mistakes_are_one_sentence(
    ltx_cli, demo_plugin: None, args: list[str], says: str
) -> None:
    result = ltx_cli("test", *args)
    assert result.exit_code == 2, result.output
    assert says in _message(result) and "Traceback" not in result.output
