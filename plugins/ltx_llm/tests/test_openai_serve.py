"""``ltx serve`` of a chat checkpoint answers the real ``openai`` client on a loopback
port: plain and streamed completions equal to ``ltx predict``'s greedy answer (with its
finish reason), token usage counted, concurrent clients answered from the one loaded
model, a bad request answered with a 4xx in OpenAI's error shape, ``/predict`` still
served, and a clean exit on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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
    predicted = json.loads(expected.stdout.strip().splitlines()[-1])
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
        yield {
            "url": url,
            "proc": proc,
            "answer": predicted["completion"],
            "finish_reason": predicted["finish_reason"],
        }
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
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
    assert reply.choices[0].finish_reason == served["finish_reason"]  # the task's own
    assert reply.usage.prompt_tokens > 0 and 0 < reply.usage.completion_tokens <= 6
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_streamed_completion(served: dict) -> None:
    chunks = list(
        _client(served).chat.completions.create(
            model="ltx",
            messages=[{"role": "user", "content": QUESTION}],
            max_tokens=6,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert "".join(pieces) == served["answer"]
    assert len([p for p in pieces if p]) > 1  # it arrived piece by piece
    finish = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finish[-1] in ("stop", "length") and set(finish[:-1]) == {None}
    assert chunks[-1].usage is not None and 0 < chunks[-1].usage.completion_tokens <= 6


def test_concurrent_clients_share_the_one_model(served: dict) -> None:
    # Plain completions of several clients at once (batched together when they meet in
    # the queue) and a stream beside them: each gets the greedy answer.
    def plain(_: int) -> str:
        reply = _client(served).chat.completions.create(
            model="ltx", messages=[{"role": "user", "content": QUESTION}], max_tokens=6,
            temperature=0,
        )  # fmt: skip
        return str(reply.choices[0].message.content)

    def streamed(_: int) -> str:
        chunks = _client(served).chat.completions.create(
            model="ltx", messages=[{"role": "user", "content": QUESTION}], max_tokens=6,
            temperature=0, stream=True,
        )  # fmt: skip
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = [pool.submit(plain, i) for i in range(3)] + [pool.submit(streamed, 0)]
        assert [a.result() for a in answers] == [served["answer"]] * 4


def test_concurrent_streams_each_get_their_own_answer(served: dict) -> None:
    """Streams of different questions at once (generated together when they meet in
    the queue, one row each): every client's pieces make the answer ``/predict`` gives
    for its own question."""
    questions = [QUESTION, "Name a colour.", "Hi", "Write a word about cats and dogs."]
    req = urllib.request.Request(
        f"{served['url']}/predict",
        data=json.dumps({"inputs": questions, "options": {"max_new_tokens": 6}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        expected = [o["completion"] for o in json.loads(r.read())["outputs"]]

    def streamed(question: str) -> str:
        chunks = _client(served).chat.completions.create(
            model="ltx", messages=[{"role": "user", "content": question}], max_tokens=6,
            temperature=0, stream=True,
        )  # fmt: skip
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        assert list(pool.map(streamed, questions * 2)) == expected * 2


def test_a_late_stream_joins_a_running_one(served: dict) -> None:
    """Continuous batching: a stream that arrives while another is generated, asking
    for another ``max_tokens``, gets its pieces before that one ends (it joins the
    running batch between two tokens instead of waiting for it), and both get the
    answers they get alone."""
    first_q, late_q, long = QUESTION, "Name a colour.", 160
    req = urllib.request.Request(
        f"{served['url']}/predict",
        data=json.dumps({"inputs": [first_q], "options": {"max_new_tokens": long}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        (expected,) = json.loads(r.read())["outputs"]
    assert expected["finish_reason"] == "length"  # the tiny model runs to the limit

    clients = [_client(served), _client(served)]

    def stream(question: str, max_tokens: int) -> Iterator[tuple[float, str]]:
        chunks = clients[max_tokens == long].chat.completions.create(
            model="ltx", messages=[{"role": "user", "content": question}],
            max_tokens=max_tokens, temperature=0, stream=True,
        )  # fmt: skip
        for c in chunks:
            if c.choices and c.choices[0].delta.content:
                yield time.monotonic(), c.choices[0].delta.content

    first = stream(first_q, long)
    first_pieces = [next(first)]  # the first stream is running now
    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(lambda: first_pieces.extend(first))  # read as it comes
        late = list(stream(late_q, 6))
        reading.result()
    late_alone = _client(served).chat.completions.create(
        model="ltx", messages=[{"role": "user", "content": late_q}], max_tokens=6, temperature=0
    )
    assert "".join(t for _, t in late) == late_alone.choices[0].message.content
    assert "".join(t for _, t in first_pieces) == expected["completion"]
    # Both read as they came: the late stream was over before the first one was.
    assert late[-1][0] < first_pieces[-1][0]


def test_a_full_batch_of_requests_is_one_model_call(served: dict) -> None:
    """The predictor takes the server's batch whole: the chat data's batch size (8, for
    training memory) is raised to ``--max-batch-size`` (16 by default)."""
    with urllib.request.urlopen(f"{served['url']}/info", timeout=30) as r:
        info = json.loads(r.read())
    assert info["server"]["max_batch_size"] == 16 and info["batch_size"] == 16


def test_bad_request_is_a_4xx(served: dict) -> None:
    with pytest.raises(openai.APIStatusError) as err:
        _client(served).chat.completions.create(
            model="ltx", messages=[{"role": "assistant", "content": "no question"}], max_tokens=4
        )
    assert 400 <= err.value.status_code < 500
    # OpenAI's shape: the client found error.message, the task's sentence.
    assert isinstance(err.value.body, dict) and "before its answer" in err.value.body["message"]


def test_predict_is_still_served(served: dict) -> None:
    req = urllib.request.Request(
        f"{served['url']}/predict",
        data=json.dumps({"inputs": [QUESTION], "options": {"max_new_tokens": 6}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        outputs = json.loads(r.read())["outputs"]
    assert outputs[0]["completion"] == served["answer"]


def test_sigterm_shuts_the_server_down_cleanly(served: dict) -> None:
    # Last in this file: the server is gone afterwards.
    proc = served["proc"]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "Traceback" not in err, err[-3000:]
