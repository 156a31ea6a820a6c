"""``docs/serving.md`` word for word (its training command, then every ``bash`` line of
the server's section), then the section "Evaluating models ltx did not train" of
``docs/using-a-model.md`` (it scores the model the serving page trains), in order, from
an empty folder, with this environment's ``ltx`` first on ``PATH``. ``ltx serve ... &``
starts the server in the background (on a free port instead of 8000), ``kill %1`` sends
it SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ltx_core.cli.testing import ltx_process_env

ROOT = Path(__file__).resolve().parents[3]
# A fence of three or more backticks, closed by the same run on a line of its own.
FENCE = re.compile(r"^(`{3,})(\w+)\n(.*?)^\1$", re.M | re.S)
SERVING = ROOT / "docs" / "serving.md"
USING = ROOT / "docs" / "using-a-model.md"
EVALUATING = "Evaluating models ltx did not train"


def _bash(text: str) -> list[str]:
    return [
        line
        for _fence, lang, body in FENCE.findall(text)
        if lang == "bash"
        for line in body.splitlines()
        if line.strip()
    ]


def section_commands() -> list[str]:
    """The serving page's bash lines, then those of the evaluating section of the page on
    using a model (it scores the model the serving page trained)."""
    parts = re.split(r"^## ", USING.read_text(encoding="utf-8"), flags=re.M)
    evaluating = [p for p in parts[1:] if p.split("\n", 1)[0].strip() == EVALUATING]
    return _bash(SERVING.read_text(encoding="utf-8")) + _bash("".join(evaluating))


def test_sections_have_every_step() -> None:
    commands = section_commands()
    assert commands[0].startswith("ltx train ")
    assert any(c.startswith("ltx serve ") and c.endswith("&") for c in commands)
    assert any("/predict" in c for c in commands) and "kill %1" in commands
    assert any(c.startswith("ltx test text-classification") for c in commands)
    assert "/work/shared" not in SERVING.read_text(encoding="utf-8")


def docs_env() -> dict[str, str]:
    """The environment the page's commands run in, as a reader's shell would have it:
    this environment's ``ltx`` first on ``PATH``, the hubs offline (``LTX_CACHE_DIR``
    is the test session's, from ``ltx_env``)."""
    return ltx_process_env(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/health", timeout=5) as resp,
        ):
            if resp.status == 200:
                return
        time.sleep(0.5)
    raise AssertionError("the server did not become healthy")


@pytest.mark.slow
def test_sections_word_for_word(tmp_path: Path) -> None:
    env = docs_env()
    port = str(_free_port())
    server: subprocess.Popen[str] | None = None
    outputs: dict[str, str] = {}
    try:
        for step in section_commands():
            argv = [a.replace("8000", port) for a in shlex.split(step.removesuffix("&"))]
            if step.endswith("&"):
                server = subprocess.Popen(
                    argv, cwd=tmp_path, env=env, text=True, start_new_session=True,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                )  # fmt: skip
                _wait_healthy(f"http://127.0.0.1:{port}", server)
                continue
            if argv == ["kill", "%1"]:
                assert server is not None
                server.send_signal(signal.SIGTERM)
                _, err = server.communicate(timeout=120)
                assert server.returncode == 0 and "Traceback" not in err, err[-3000:]
                continue
            done = subprocess.run(
                argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
            )
            assert done.returncode == 0, f"{step}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            outputs[step] = done.stdout
    finally:
        if server is not None and server.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.communicate()

    said = {step.split("-d ", 1)[-1]: out for step, out in outputs.items() if "/predict" in step}
    answers = [json.loads(out) for out in said.values()]
    assert [o["input"] for o in answers[0]["outputs"]] == ["a gripping film", "a dull mess"]
    assert set(answers[1]["outputs"][0]["scores"]) == {"negative", "positive"}
    assert "Did you mean 'return_all_scores'?" in answers[2]["error"]
    info = json.loads(next(out for step, out in outputs.items() if step.endswith("/info")))
    assert info["task"] == "text-classification" and info["labels"] == ["negative", "positive"]
    # The export scores as its checkpoint: the two `ltx test` lines print the same table.
    tests = [out for step, out in outputs.items() if step.startswith("ltx test ")]
    assert len(tests) == 2 and tests[0] == tests[1] and "test_acc\t" in tests[0], tests
    card = next(out for step, out in outputs.items() if step.startswith("head "))
    assert card.startswith("---\n") and "pipeline_tag: text-classification" in card
