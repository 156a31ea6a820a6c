"""``ltx serve`` for real (a server process on a loopback port, real HTTP requests) with
four concurrent requests batched together, one of which the task refuses while
predicting (its ``predict_batch`` raises ``LtxError`` for that request's options): that
request alone gets a 422 with the task's sentence, the other three get their results.

The four clients send their headers and the first half of their bodies, then the rest
together: the first request whose body is complete starts a batch, which waits for the
three still arriving (up to the batch timeout), so the four share one batch every time.

The task is the tiny point classifier of ``ltx_serve_refusing.py``, trained in this
process in a few steps; the server's unit of this behaviour is ``test_batch_isolation.py``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ltx_core import registry
from ltx_core.cli.testing import start_ltx_process

pytestmark = pytest.mark.slow

PLUGIN = Path(__file__).with_name("ltx_serve_refusing.py")
# Three good requests sharing their options (so the server predicts them in one model
# call when they share a batch) and one whose top_k the 3-class model refuses.
GOOD_OPTIONS = {"top_k": 2}
GOOD = [["0,0"], ["1.5,-1", "-2,3"], ["4,4"]]
BAD = (["2,-2"], {"top_k": 5})
REFUSAL = "top_k is 5, but this model has only 3 classes."
# The server waits up to this long for the rest of a batch while its requests arrive.
BATCH_TIMEOUT = 2.0


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The plugin installed as pip installs a distribution: its module and the metadata
    naming its entry point (group ``ltx``), in a folder on this process's ``sys.path``
    and, for the server and its spawned model workers, on ``PYTHONPATH``."""
    site = tmp_path / "site"
    info = site / "ltx_serve_refusing-0.1.0.dist-info"
    info.mkdir(parents=True)
    shutil.copy(PLUGIN, site)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ltx-serve-refusing\nVersion: 0.1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[ltx]\nrefusing = ltx_serve_refusing\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(site))
    registry.reset_registry()  # found by its entry point from now on
    return site


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _serving(ckpt: Path, site: Path, cwd: Path, cache: Path) -> Iterator[str]:
    """``ltx serve`` on a free loopback port, batching up to four requests; its address
    (``host:port``) once it is healthy. The whole process group is killed at the end."""
    port = _free_port()
    # One model thread (the CPU's default is two): the four requests must meet in one
    # batch, which a second thread taking some of them would split.
    proc = start_ltx_process(
        "serve", "--ckpt", str(ckpt), "--port", str(port), "--accelerator", "cpu",
        "--devices", "1", "--max-batch-size", "4", "--batch-timeout", str(BATCH_TIMEOUT),
        env={"LTX_CACHE_DIR": str(cache)}, path=[site], cwd=cwd,
        start_new_session=True,  # its own process group: teardown reaches every child
    )  # fmt: skip
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"http://{address}/health", timeout=5) as resp,
            ):
                if resp.status == 200:
                    break
            assert time.monotonic() < deadline, "the server did not become healthy"
            time.sleep(0.5)
        yield address
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()


def _round(address: str) -> tuple[list[tuple[int, Any]], tuple[int, Any]]:
    """The four requests, their bodies completed together: the good ones' answers, in
    order, and the bad one's."""
    requests = [(inputs, GOOD_OPTIONS) for inputs in GOOD] + [BAD]
    conns, bodies = [], []
    for inputs, options in requests:
        body = json.dumps({"inputs": inputs, "options": options}).encode()
        conn = http.client.HTTPConnection(address, timeout=60)
        conn.putrequest("POST", "/predict")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        conn.send(body[: len(body) // 2])
        conns.append(conn)
        bodies.append(body)
    time.sleep(0.5)  # every request's headers read: all four are arriving
    for conn, body in zip(conns, bodies, strict=True):
        conn.send(body[len(body) // 2 :])
    answers = []
    for conn in conns:
        resp = conn.getresponse()
        answers.append((resp.status, json.loads(resp.read())))
        conn.close()
    return answers[:-1], answers[-1]


def test_a_request_refused_in_its_batch_fails_alone(
    site: Path, tmp_path: Path, ltx_train: Any, ltx_cache_dir: Path
) -> None:
    ckpt = ltx_train("points-classify", "--max-steps", "5").checkpoint
    with _serving(ckpt, site, tmp_path, ltx_cache_dir) as address:
        start = time.monotonic()
        good, bad = _round(address)
        took = time.monotonic() - start
    assert bad == (422, {"error": REFUSAL}), bad
    for (status, answer), inputs in zip(good, GOOD, strict=True):
        assert status == 200, answer
        outputs = answer["outputs"]
        assert [o["input"] for o in outputs] == inputs
        assert all(len(o["classes"]) == GOOD_OPTIONS["top_k"] for o in outputs)
    # One model call predicted all three good requests: they shared a batch with the
    # refused one, which was predicted again alone, and failed alone.
    sizes = {o["call_size"] for _, answer in good for o in answer["outputs"]}
    assert sizes == {sum(len(inputs) for inputs in GOOD)}, sizes
    # The batch was full (four) once the last body was in: it did not wait out the timeout.
    assert took < BATCH_TIMEOUT, took
