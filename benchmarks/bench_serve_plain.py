"""``ltx serve`` against the plain app a user would write instead, side by side.

The plain app is twenty lines: FastAPI around ``transformers.pipeline`` (a synchronous
endpoint, so FastAPI runs each request in its thread pool), served by uvicorn. Both
serve the same model: an ltx checkpoint of a MiniLM sentiment classifier (a few steps on
the shared SST-2 data) and its ``artifacts/hf_model`` export. Both run at once on
loopback ports; each round measures both, interleaved, under each load:

- one sequential client: latency p50 and p99;
- 16 concurrent clients (threads with keep-alive connections): requests/s and p99, and
  the CPU time the server process used for them (all its threads, from ``/proc``): its
  share of the machine's cores over the measurement, and CPU milliseconds per request.
  Under a competing load, what a server gets of the CPU and what it does with it part
  here;

on an idle machine and with a competing CPU load (one busy process per core, started
for the loaded rounds and stopped after). One request is one sentence. The table gives
the median over rounds (min-max in brackets) and the ltx/plain ratio (for latency,
plain/ltx, so above 1 means ltx is faster in every column).

    python benchmarks/bench_serve_plain.py [--rounds 3] [--requests 160] [--ckpt C]
        [--precision 32-true] [--clients 1,16] [--also "NAME:SERVE ARGS" ...]

``--clients 1`` measures the one-client cells alone, so that many short rounds fit in the
time of a few full ones (the one-client ratios move between runs more than the others).

``--also`` adds an ``ltx serve`` started with other options (``"two:--devices 2"``; leading
``KEY=VALUE`` words set its environment: ``"spin:GOMP_SPINCOUNT=300000"``) to every
round, so a setting is compared with the default and the plain app in one run.

About ten minutes on two CPU cores.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_serve import (
    ENV,
    LTX,
    SST2,
    free_port,
    measure,
    pct,
    spread,
    train,
    wait_healthy,
)

PLAIN_APP = textwrap.dedent(
    """
    import sys
    import uvicorn
    from fastapi import FastAPI
    from pydantic import BaseModel
    from transformers import pipeline

    classify = pipeline("text-classification", model=sys.argv[1], device="cpu")
    app = FastAPI()

    class Request(BaseModel):
        inputs: list[str]

    @app.get("/health")
    def health() -> str:
        return "ok"

    @app.post("/predict")
    def predict(request: Request) -> dict:
        return {"outputs": classify(request.inputs)}

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
    """
)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, all its threads (Linux ``/proc``;
    0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy() -> None:
    """A competing CPU load: one core, forever."""
    x = 0
    while True:
        x = (x * 31 + 7) % 1_000_003


def start_ltx(
    ckpt: Path, port: int, precision: str | None = None, extra: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """``ltx serve`` of ``ckpt``; ``extra``: its options, after any ``KEY=VALUE`` words
    that set its environment."""
    env = dict(ENV)
    words = list(extra)
    while words and "=" in words[0] and not words[0].startswith("-"):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    options = [*(["--precision", precision] if precision else []), *words]
    return subprocess.Popen(
        [LTX, "serve", "--ckpt", str(ckpt), "--port", str(port), "--accelerator", "cpu", *options],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def start_plain(app: Path, model: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(app), str(model), str(port)],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def add_also_option(parser: argparse.ArgumentParser) -> None:
    """``--also NAME:ARGS``: another ``ltx serve`` in every round (see :func:`start_ltx`)."""
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME:ARGS",
        help="another ltx serve, with these options, in every round (repeatable)",
    )


def servers(also: Sequence[str]) -> dict[str, list[str]]:
    """The ltx servers of a run: the default, then each ``--also``, by name."""
    return {"ltx": []} | {
        name.strip(): shlex.split(rest) for name, _, rest in (v.partition(":") for v in also)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=160, help="per measurement")
    parser.add_argument("--ckpt", type=Path, help="an ltx checkpoint with artifacts/hf_model")
    parser.add_argument(
        "--precision",
        help="ltx serve --precision (default: its own, auto); the plain app predicts in fp32, "
        "so 32-true compares the servers alone",
    )
    parser.add_argument(
        "--clients", default="1,16", help="the cells to measure: 1 (sequential), 16, or both"
    )
    add_also_option(parser)
    args = parser.parse_args()
    clients = {c.strip() for c in args.clients.split(",") if c.strip()}
    if not clients or not clients <= {"1", "16"}:
        parser.error("--clients takes 1, 16 or 1,16")
    variants = servers(args.also)
    texts = [line.split("\t")[0] for line in (SST2 / "test.tsv").read_text().splitlines()[1:]]
    loads = {"idle": 0, "loaded": os.cpu_count() or 2}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ckpt = args.ckpt or train_exported(work / "run")
        model = ckpt.parent.parent / "artifacts" / "hf_model"
        app = work / "plain_app.py"
        app.write_text(PLAIN_APP, encoding="utf-8")
        ports = {name: free_port() for name in [*variants, "plain"]}
        procs = {
            name: start_ltx(ckpt, ports[name], args.precision, extra)
            for name, extra in variants.items()
        }
        procs["plain"] = start_plain(app, model, ports["plain"])
        try:
            for name, proc in procs.items():
                wait_healthy(ports[name], proc)
            for port in ports.values():  # warm-up: first calls allocate and compile
                measure(port, 4, 16, texts)
            # results[load][server] -> lists per round
            results: dict[str, dict[str, dict[str, list[float]]]] = {
                load: {
                    s: {"p50": [], "p99": [], "rps": [], "p99c": [], "share": [], "cpu_ms": []}
                    for s in procs
                }
                for load in loads
            }
            for round_ in range(args.rounds):
                for load, n_busy in loads.items():
                    burners = [multiprocessing.Process(target=busy, daemon=True)
                               for _ in range(n_busy)]  # fmt: skip
                    for b in burners:
                        b.start()
                    try:
                        # Each round in the other order: load that drifts over a round
                        # (other work on the machine) hits both servers alike.
                        order = list(procs) if round_ % 2 == 0 else list(procs)[::-1]
                        for server in order:
                            r = results[load][server]
                            if "1" in clients:
                                _, lat = measure(ports[server], 1, args.requests // 4, texts)
                                r["p50"].append(pct(lat, 0.5) * 1000)
                                r["p99"].append(pct(lat, 0.99) * 1000)
                            if "16" not in clients:
                                continue
                            pid = procs[server].pid
                            cpu0, t0 = cpu_seconds(pid), time.perf_counter()
                            rps, lat16 = measure(ports[server], 16, args.requests, texts)
                            cpu, wall = cpu_seconds(pid) - cpu0, time.perf_counter() - t0
                            r["rps"].append(rps)
                            r["p99c"].append(pct(lat16, 0.99) * 1000)
                            r["share"].append(100 * cpu / wall / (os.cpu_count() or 1))
                            r["cpu_ms"].append(1000 * cpu / len(lat16))
                    finally:
                        for b in burners:
                            b.terminate()
        finally:
            for proc in procs.values():
                proc.terminate()
                proc.wait(timeout=60)
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"{args.rounds} rounds, median [min-max]; ltx serve --precision "
          f"{args.precision or '(default)'}\n")  # fmt: skip
    print(
        "| load | server | 1 client p50 ms | p99 ms | 16 clients req/s | p99 ms "
        "| CPU share % | CPU ms/request |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for load in loads:
        for server in procs:
            r = results[load][server]
            print(f"| {load} | {server} | {spread(r['p50'], '.1f')} | {spread(r['p99'], '.1f')} | "
                  f"{spread(r['rps'], '.0f')} | {spread(r['p99c'], '.0f')} | "
                  f"{spread(r['share'], '.0f')} | {spread(r['cpu_ms'], '.1f')} |")  # fmt: skip

    def ratios(ours: list[float], theirs: list[float]) -> str:
        """Per-round ratios: ``median [min-max]`` and in how many rounds ltx was ahead."""
        values = [a / b for a, b in zip(ours, theirs, strict=True)]
        ahead = sum(v >= 1 for v in values)
        return f"{spread(values, '.2f')} ({ahead}/{len(values)} ≥ 1)" if values else "—"

    print("\n| load | server | 1 client p50: plain/ltx | 16 clients req/s: ltx/plain |")
    print("|---|---|---|---|")
    for load in loads:
        pl = results[load]["plain"]
        for server in variants:
            lt = results[load][server]
            p50, rps = ratios(pl["p50"], lt["p50"]), ratios(lt["rps"], pl["rps"])
            print(f"| {load} | {server} | {p50} | {rps} |")


def train_exported(out: Path) -> Path:
    """The MiniLM classifier of ``bench_serve``, with its Hugging Face export."""
    ckpt = train(out, "minilm", export=True)
    if not (out / "artifacts" / "hf_model").is_dir():
        raise SystemExit("The training run wrote no artifacts/hf_model export.")
    return ckpt


if __name__ == "__main__":
    main()
