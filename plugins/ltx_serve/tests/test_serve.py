"""``ltx serve`` as a user runs it: a real server process on a free loopback port, real
HTTP requests (one input, a list, 16 clients at once), results equal to ``ltx predict``'s
for the same inputs and options, every kind of bad request answered with a 4xx JSON
sentence while the server keeps serving, and a clean exit on SIGTERM.

The model is a tiny text classifier trained in seconds on the real SST-2 sentences."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SST2 = Path(__file__).resolve().parents[4] / "shared" / "data" / "sst2"
LTX = str(Path(sys.executable).with_name("ltx"))
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
ENV.pop("LTX_RUN_DIR", None)
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


def _train(out: Path) -> Path:
    if not SST2.is_dir():
        pytest.skip(f"no SST-2 data at {SST2}")
    args = [
        LTX, "train", "text-classification", "--dataset", "text-classification-files",
        "--backbone", "tiny-bert", "--accelerator", "cpu", "--max-epochs", "1", "-o", str(out),
        f"dataset.train_file={SST2 / 'dev.tsv'}", f"dataset.test_file={SST2 / 'test.tsv'}",
        "dataset.label_names=[negative, positive]", "dataset.limit_train_samples=256",
        "dataset.limit_val_samples=32", "dataset.limit_test_samples=32", "optimizer.lr=0.003",
        "task.export_hf=false", "trainer.enable_progress_bar=false",
        "trainer.tensorboard=false", "trainer.num_sanity_val_steps=0",
    ]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, env=ENV, cwd=out.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    return out / "checkpoints" / "last.ckpt"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _predict_cli(ckpt: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [LTX, "predict", "--ckpt", str(ckpt), *extra, *TEXTS],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip


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
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("serve")
    ckpt = _train(root / "run")
    port = _free_port()
    # The server and the two reference `ltx predict` runs start together (each loads torch).
    proc = subprocess.Popen(
        [LTX, "serve", "--ckpt", str(ckpt), "--port", str(port), "--accelerator", "cpu",
         "--max-batch-size", "8", "--batch-timeout", "0.02",
         "--max-body-bytes", str(BODY_LIMIT)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=root,
        start_new_session=True,  # its own process group: teardown reaches every child
    )  # fmt: skip
    plain = _predict_cli(ckpt)
    scored = _predict_cli(ckpt, "--set", "return_all_scores=true")
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
            # The server's children (LitServe's API servers, model worker and manager)
            # outlive a killed parent; the group takes them all.
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


def test_sigterm_shuts_the_server_down_cleanly(served: Served) -> None:
    # Last in this file: the server is gone afterwards.
    assert _predict(served.url, [TEXTS[2]]) == [served.expected[TEXTS[2]]]
    served.proc.send_signal(signal.SIGTERM)
    out, err = served.proc.communicate(timeout=120)
    assert served.proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err and "Traceback" not in out, err[-3000:]
    with pytest.raises(OSError):
        _request(f"{served.url}/health", method="GET")


def test_serve_is_torch_free_until_it_runs() -> None:
    probe = (
        "import sys; import ltx_core.cli.app, ltx_serve.plugin, ltx_serve.command; "
        "heavy = [m for m in ('torch', 'litserve', 'fastapi', 'transformers') if m in sys.modules]; "
        "print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=ENV)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--ckpt", "missing.ckpt"], "does not exist"),
        (["--ckpt", "missing.ckpt", "--host", "10.1.2.3"], "--host takes"),
        (["--ckpt", "missing.ckpt", "--port", "80"], "--port must be"),
        (["--ckpt", "missing.ckpt", "--max-batch-size", "0"], "--max-batch-size"),
    ],
)
def test_serve_user_mistakes_exit_2_with_one_sentence(
    tmp_path: Path, args: list[str], says: str
) -> None:
    done = subprocess.run(
        [LTX, "serve", *args], capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
