"""``ltx serve`` throughput and latency, with and without dynamic batching, side by side.

Two real servers of the same checkpoint run at once on loopback ports: one with
``--max-batch-size 1`` (every request its own model call) and one with
``--max-batch-size N`` (requests of concurrent clients predicted together). Each round
measures both at 1 and at 16 concurrent clients (threads with keep-alive connections,
one text per request), interleaved so that machine noise hits both alike. The table
gives requests/s and p50 / p99 latency (median over rounds, min-max in brackets) and the
batched/unbatched throughput ratio per round.

Run: ``python benchmarks/bench_serve.py`` (trains a MiniLM classifier for a few steps on
the shared SST-2 data, about a minute), or ``--ckpt C`` for any checkpoint;
``--rounds``, ``--requests``, ``--batch-size``, ``--accelerator`` for other settings.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SST2 = ROOT.parent / "shared" / "data" / "sst2"
LTX = str(Path(sys.executable).with_name("ltx"))
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def train(out: Path, backbone: str, *, export: bool = False) -> Path:
    args = [
        LTX, "train", "text-classification", "--dataset", "text-classification-files",
        "--backbone", backbone, "--accelerator", "cpu", "--max-steps", "4", "-o", str(out),
        f"dataset.train_file={SST2 / 'dev.tsv'}", f"dataset.test_file={SST2 / 'test.tsv'}",
        "dataset.label_names=[negative, positive]", "dataset.limit_train_samples=64",
        "dataset.limit_val_samples=16", "dataset.limit_test_samples=16", "dataset.batch_size=16",
        f"task.export_hf={str(export).lower()}", "trainer.enable_progress_bar=false",
        "trainer.tensorboard=false", "trainer.num_sanity_val_steps=0",
    ]  # fmt: skip
    subprocess.run(args, check=True, env=ENV, capture_output=True, text=True)
    return out / "checkpoints" / "last.ckpt"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(ckpt: Path, port: int, batch: int, accelerator: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [LTX, "serve", "--ckpt", str(ckpt), "--port", str(port), "--accelerator", accelerator,
         "--max-batch-size", str(batch), "--batch-timeout", "0.01"],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def wait_healthy(port: int, proc: subprocess.Popen[bytes], limit: float = 600) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server on port {port} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server on port {port} did not become healthy")


def measure(port: int, clients: int, total: int, texts: list[str]) -> tuple[float, list[float]]:
    """``(requests per second, latencies in s)`` of ``total`` requests over ``clients``."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = max(1, total // clients)

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        own = []
        for k in range(per_client):
            body = json.dumps({"inputs": [texts[(i * per_client + k) % len(texts)]]})
            t0 = time.perf_counter()
            conn.request("POST", "/predict", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            own.append(time.perf_counter() - t0)
            if resp.status != 200:
                raise RuntimeError(f"status {resp.status}")
        conn.close()
        with lock:
            latencies.extend(own)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    start_t = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start_t
    return len(latencies) / wall, latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def spread(values: list[float], fmt: str) -> str:
    """``median [min-max]``; a dash where nothing was measured."""
    if not values:
        return "—"
    low, high = format(min(values), fmt), format(max(values), fmt)
    return f"{format(statistics.median(values), fmt)} [{low}-{high}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", help="checkpoint to serve (default: train a small one)")
    parser.add_argument("--backbone", default="minilm", help="backbone of the trained one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=96, help="requests per measurement")
    parser.add_argument("--batch-size", type=int, default=16, help="the batched server's")
    parser.add_argument("--accelerator", default="cpu")
    args = parser.parse_args()

    texts = [
        line.split("\t")[0]
        for line in (SST2 / "test.tsv").read_text(encoding="utf-8").splitlines()[1:200]
    ]
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        ckpt = Path(args.ckpt) if args.ckpt else train(Path(tmp) / "run", args.backbone)
        servers = {}
        for batch in (1, args.batch_size):
            port = free_port()
            servers[batch] = (port, start(ckpt, port, batch, args.accelerator))
        try:
            for port, proc in servers.values():
                wait_healthy(port, proc)
            for port, _ in servers.values():  # warm-up: first calls allocate
                measure(port, 4, 16, texts)
            results: dict[tuple[int, int], list[tuple[float, float, float]]] = {}
            for _ in range(args.rounds):
                for clients in (1, 16):
                    for batch, (port, _) in servers.items():
                        n = args.requests if clients > 1 else max(16, args.requests // 3)
                        rps, lat = measure(port, clients, n, texts)
                        results.setdefault((batch, clients), []).append(
                            (rps, pct(lat, 0.5) * 1000, pct(lat, 0.99) * 1000)
                        )
        finally:
            for _, proc in servers.values():
                proc.terminate()
                proc.wait(timeout=60)

    model = ckpt.name if args.ckpt else f"{args.backbone} classifier"
    where = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"ltx serve, {model}, {args.accelerator}, {args.rounds} rounds ({where}), 1 text each")
    print(f"{'max batch':>9} {'clients':>7}  {'requests/s':>22}  {'p50 ms':>22}  {'p99 ms':>22}")
    for (batch, clients), rows in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rps, p50, p99 = zip(*rows, strict=True)
        print(f"{batch:>9} {clients:>7}  {spread(list(rps), '.1f'):>22}  "
              f"{spread(list(p50), '.1f'):>22}  {spread(list(p99), '.1f'):>22}")  # fmt: skip
    for clients in (1, 16):
        ratios = [
            b[0] / u[0]
            for b, u in zip(results[(args.batch_size, clients)], results[(1, clients)], strict=True)
        ]
        print(f"throughput batched/unbatched at {clients} client(s): {spread(ratios, '.2f')}x")


if __name__ == "__main__":
    main()
