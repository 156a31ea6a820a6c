"""``ltx serve`` of a chat checkpoint answers the real ``openai`` client on a loopback
port: plain and streamed completions equal to ``ltx predict``'s greedy answer, token
usage counted, a bad request answered with a 4xx, and ``/predict`` still served."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ltx_core.cli.testing import QUIET, run_ltx_process, start_ltx_process

pytest.importorskip("ltx_serve")
openai = pytest.importorskip("openai")
pytestmark = pytest.mark.slow

ENV = {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
QUESTION = "What is 2 plus 3?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, ltx_cache_dir: Path) -> Iterator[dict]:
    env = {**ENV, "LTX_CACHE_DIR": str(ltx_cache_dir)}
    root = tmp_path_factory.mktemp("chat-serve")
    done = run_ltx_process(
        "train", "chat", "--backbone", "tiny-llama", "--accelerator", "cpu", "--max-steps", "4",
        "-o", str(root / "run"), "dataset.max_length=160", "task.test_generation=false",
        "task.export_hf=false", *QUIET, env=env, cwd=root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    ckpt = root / "run" / "checkpoints" / "last.ckpt"
    port = _free_port()
    proc = start_ltx_process(
        "serve", "--ckpt", str(ckpt), "--port", str(port), "--accelerator", "cpu",
        env=env, cwd=root, start_new_session=True,
    )  # fmt: skip
    expected = run_ltx_process(
        "predict", "--ckpt", str(ckpt), QUESTION, "--set", "max_new_tokens=6", env=env, cwd=root
    )
    assert expected.returncode == 0, expected.stderr[-2000:]
    answer = json.loads(expected.stdout.strip().splitlines()[-1])["completion"]
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.5)
        yield {"url": url, "answer": answer}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=60)


def _client(served: dict) -> Any:
    return openai.OpenAI(base_url=f"{served['url']}/v1", api_key="unused", max_retries=0)


def test_plain_completion(served: dict) -> None:
    reply = _client(served).chat.completions.create(
        model="ltx",
        messages=[{"role": "user", "content": QUESTION}],
        max_tokens=6,
        temperature=0,
    )
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].message.content == served["answer"]
    assert reply.usage.prompt_tokens > 0 and 0 < reply.usage.completion_tokens <= 6


def test_streamed_completion(served: dict) -> None:
    chunks = list(
        _client(served).chat.completions.create(
            model="ltx",
            messages=[{"role": "user", "content": QUESTION}],
            max_tokens=6,
            temperature=0,
            stream=True,
        )
    )
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert "".join(pieces) == served["answer"]
    assert len([p for p in pieces if p]) > 1  # it arrived piece by piece


def test_bad_request_is_a_4xx(served: dict) -> None:
    with pytest.raises(openai.APIStatusError) as err:
        _client(served).chat.completions.create(
            model="ltx", messages=[{"role": "assistant", "content": "no question"}], max_tokens=4
        )
    assert 400 <= err.value.status_code < 500


def test_predict_is_still_served(served: dict) -> None:
    req = urllib.request.Request(
        f"{served['url']}/predict",
        data=json.dumps({"inputs": [QUESTION], "options": {"max_new_tokens": 6}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        outputs = json.loads(r.read())["outputs"]
    assert outputs[0]["completion"] == served["answer"]
