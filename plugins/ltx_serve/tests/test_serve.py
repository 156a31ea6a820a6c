"""``ltx serve`` as a user runs it: a real server process on a free loopback port, real
HTTP requests (one input, a list, 16 clients at once), results equal to ``ltx predict``'s
for the same inputs and options, every kind of bad request answered with a 4xx JSON
sentence while the server keeps serving, a client that stalls halfway through its body
holding up nobody else, and a clean exit on SIGTERM.

The model is a tiny text classifier trained in seconds on real SST-2 sentences (the
sample that ships with ltx-nlp-hf). The command's own checks, and that it stays out of
``ltx --help``'s imports, are in ``test_plugin.py``."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ltx_core.cli.testing import QUIET, run_ltx_process, start_ltx_process

# Added to this process's environment for every ltx process of this file: the hubs are
# offline, and the tokenizers' threads stay off (the server sets it too).
ENV = {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
TEXTS = [
    "a gripping , beautifully acted film",
    "a dull , lifeless mess",
    "it is not bad at all",
    "the worst movie of the year",
    "a masterpiece",
    "tedious and far too long",
    "funny",
    "i loved every minute of it",
]
BODY_LIMIT = 4096

pytestmark = pytest.mark.slow


def _train(out: Path, env: dict[str, str]) -> Path:
    done = run_ltx_process(
        "train", "text-classification", "--dataset", "sst2-sample", "--backbone", "tiny-bert",
        "--accelerator", "cpu", "--max-epochs", "1", "-o", str(out),
        "dataset.limit_train_samples=256", "dataset.limit_val_samples=32",
        "dataset.limit_test_samples=32", "optimizer.lr=0.003", "task.export_hf=false",
        "trainer.num_sanity_val_steps=0", *QUIET,
        env=env, cwd=out.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return out / "checkpoints" / "last.ckpt"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _predict_cli(ckpt: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return start_ltx_process("predict", "--ckpt", str(ckpt), *extra, *TEXTS, env=env)


@dataclass
class Served:
    url: str
    proc: subprocess.Popen[str]
    expected: dict[str, Any]  # input text -> what `ltx predict` printed
    expected_scores: dict[str, Any]  # the same with --set return_all_scores=true


def _request(
    url: str,
    body: bytes | None = None,
    *,
    method: str = "POST",
    content_type: str = "application/json",
) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        raw, status = err.read(), err.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode()


def _predict(url: str, inputs: list[Any], options: dict[str, Any] | None = None) -> Any:
    body = {"inputs": inputs, **({"options": options} if options is not None else {})}
    status, answer = _request(f"{url}/predict", json.dumps(body).encode())
    assert status == 200, answer
    return answer["outputs"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, ltx_cache_dir: Path) -> Iterator[Served]:
    # Module-scoped, so set up before a test's ``ltx_env``: the session's cache is given
    # to its processes here.
    env = {**ENV, "LTX_CACHE_DIR": str(ltx_cache_dir)}
    root = tmp_path_factory.mktemp("serve")
    ckpt = _train(root / "run", env)
    port = _free_port()
    # The server and the two reference `ltx predict` runs start together (each loads torch).
    # The CPU's default: two model threads sharing one model's weights and the cores;
    # every test below runs through both.
    proc = start_ltx_process(
        "serve", "--ckpt", str(ckpt), "--port", str(port), "--accelerator", "cpu",
        "--max-batch-size", "8", "--batch-timeout", "0.02", "--max-body-bytes", str(BODY_LIMIT),
        env=env, cwd=root,
        start_new_session=True,  # its own process group: teardown reaches every child
    )  # fmt: skip
    plain = _predict_cli(ckpt, env)
    scored = _predict_cli(ckpt, env, "--set", "return_all_scores=true")
    url = f"http://127.0.0.1:{port}"
    try:
        outs = []
        for p in (plain, scored):
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err[-2000:]
            rows = [json.loads(line) for line in out.splitlines() if line.strip()]
            assert [r["input"] for r in rows] == TEXTS
            outs.append({r["input"]: r for r in rows})
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            try:
                status, _ = _request(f"{url}/health", method="GET")
            except OSError:
                status = 0
            if status == 200:
                break
            assert time.monotonic() < deadline, "the server did not become healthy"
            time.sleep(0.5)
        yield Served(url, proc, outs[0], outs[1])
    finally:
        with contextlib.suppress(ProcessLookupError):
            # The whole group: anything the server started goes with it.
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()


def test_health_info_and_openapi_docs(served: Served) -> None:
    status, body = _request(f"{served.url}/health", method="GET")
    assert (status, body) == (200, "ok")
    status, info = _request(f"{served.url}/info", method="GET")
    assert status == 200
    assert info["task"] == "text-classification"
    assert info["labels"] == ["negative", "positive"]
    assert info["backbone"] == "tiny-bert"
    assert "return_all_scores" in info["options"]["properties"]
    assert info["server"]["max_batch_size"] == 8
    assert info["server"]["model_threads"] == min(2, len(os.sched_getaffinity(0)))
    status, spec = _request(f"{served.url}/openapi.json", method="GET")
    assert status == 200
    assert "/predict" in spec["paths"] and "/info" in spec["paths"]
    assert {"inputs", "options"} <= set(
        spec["components"]["schemas"]["PredictRequest"]["properties"]
    )
    status, docs = _request(f"{served.url}/docs", method="GET")
    assert status == 200 and "swagger" in docs.lower()


def test_single_and_list_requests_equal_ltx_predict(served: Served) -> None:
    assert _predict(served.url, [TEXTS[0]]) == [served.expected[TEXTS[0]]]
    assert _predict(served.url, TEXTS) == [served.expected[t] for t in TEXTS]
    # Reversed order in, reversed order out.
    assert _predict(served.url, TEXTS[::-1]) == [served.expected[t] for t in TEXTS[::-1]]
    scored = _predict(served.url, TEXTS, {"return_all_scores": True})
    assert scored == [served.expected_scores[t] for t in TEXTS]
    assert all(set(r["scores"]) == {"negative", "positive"} for r in scored)


def test_sixteen_concurrent_clients_each_get_their_own_results(served: Served) -> None:
    # Each client sends its own slice and options: batches mix requests, never answers.
    def client(i: int) -> tuple[int, list[str], bool, Any]:
        inputs = [TEXTS[(i + k) % len(TEXTS)] for k in range(1 + i % 3)]
        scores = i % 2 == 1
        return i, inputs, scores, _predict(served.url, inputs, {"return_all_scores": scores})

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(client, range(16)))
    assert len(answers) == 16
    for _, inputs, scores, outputs in answers:
        expected = served.expected_scores if scores else served.expected
        assert outputs == [expected[t] for t in inputs]


BAD_REQUESTS = [
    ("malformed JSON", b'{"inputs": [', "application/json", 400, "not valid JSON"),
    ("no body", b"", "application/json", 400, "no JSON body"),
    ("not an object", b'["a", "b"]', "application/json", 422, "JSON object"),
    ("inputs not a list", b'{"inputs": "a film"}', "application/json", 422, "'inputs'"),
    ("input of the wrong type", b'{"inputs": ["ok", 3]}', "application/json", 422, "Input 1"),
    ("unknown field", b'{"inputs": ["ok"], "top_k": 3}', "application/json", 422, "'top_k'"),
    ("unknown option", b'{"inputs": ["ok"], "options": {"return_all_score": true}}',
     "application/json", 422, "return_all_scores"),
    ("option of the wrong type", b'{"inputs": ["ok"], "options": {"threshold": "high"}}',
     "application/json", 422, "threshold"),
    ("not JSON at all", b"inputs=a+film", "application/x-www-form-urlencoded", 415,
     "Content-Type: application/json"),
    ("oversized body", json.dumps({"inputs": ["word " * BODY_LIMIT]}).encode(),
     "application/json", 413, str(BODY_LIMIT)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "content_type", "status", "says"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_requests_get_a_4xx_sentence_and_the_server_keeps_serving(
    served: Served, body: bytes, content_type: str, status: int, says: str
) -> None:
    got, answer = _request(f"{served.url}/predict", body, content_type=content_type)
    assert got == status, answer
    assert isinstance(answer, dict) and set(answer) == {"error"}, answer
    message = answer["error"]
    assert says in message, message
    assert "\n" not in message and message.endswith((".", "?")), message
    # The next good request is answered as if nothing had happened.
    assert _predict(served.url, [TEXTS[1]]) == [served.expected[TEXTS[1]]]


def test_unknown_routes_and_methods_are_json_errors(served: Served) -> None:
    assert _request(f"{served.url}/nothing", method="GET") == (
        404,
        {"error": "There is no endpoint /nothing; see /docs."},
    )
    status, answer = _request(f"{served.url}/predict", method="GET")
    assert status == 405 and "POST" not in answer["error"] and "GET" in answer["error"]


def test_a_client_stalled_halfway_through_its_body_holds_up_nobody(served: Served) -> None:
    # Its headers and half its body are in: it counts as arriving, and batches wait for
    # it, but only up to --batch-timeout (0.02 s here), never for the rest of its body.
    body = json.dumps({"inputs": [TEXTS[3]]}).encode()
    slow = http.client.HTTPConnection(served.url.removeprefix("http://"), timeout=60)
    slow.putrequest("POST", "/predict")
    slow.putheader("Content-Type", "application/json")
    slow.putheader("Content-Length", str(len(body)))
    slow.endheaders()
    slow.send(body[: len(body) // 2])
    time.sleep(0.2)  # read by the server before the others come
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(TEXTS)) as pool:
        answers = list(pool.map(lambda text: _predict(served.url, [text]), TEXTS))
    fast = time.monotonic() - start
    assert answers == [[served.expected[t]] for t in TEXTS]
    # Eight one-text requests of a tiny model: a few batches, each waiting at most the
    # batch timeout. Had a batch waited for the stalled body, none would be answered.
    assert fast < 5.0, fast
    slow.send(body[len(body) // 2 :])
    resp = slow.getresponse()
    assert resp.status == 200
    assert json.loads(resp.read()) == {"outputs": [served.expected[TEXTS[3]]]}
    slow.close()


def test_sigterm_shuts_the_server_down_cleanly(served: Served) -> None:
    # Last in this file: the server is gone afterwards.
    assert _predict(served.url, [TEXTS[2]]) == [served.expected[TEXTS[2]]]
    served.proc.send_signal(signal.SIGTERM)
    out, err = served.proc.communicate(timeout=120)
    assert served.proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err and "Traceback" not in out, err[-3000:]
    with pytest.raises(OSError):
        _request(f"{served.url}/health", method="GET")
