"""``ltx serve``'s chat endpoint against a plain ``model.generate`` app, side by side.

The plain app is what a user writes instead: FastAPI around ``AutoModelForCausalLM`` with
an OpenAI-shaped ``POST /v1/chat/completions`` (its chat template, ``model.generate``, a
``TextIteratorStreamer`` for ``"stream": true``; a synchronous endpoint, so requests run
one by one in FastAPI's thread pool, as ``generate`` is not shared across requests). ltx
serves an ltx chat checkpoint of the same weights (SmolLM2-135M-Instruct: written by
``ltx train``, holding exactly the installed weights). Both run at once on loopback
ports and are asked through the real ``openai`` client, interleaved, each round:

- one client, streaming: time to first token (p50) and generated tokens/s of the stream;
- one client, not streaming: tokens/s (``usage.completion_tokens`` over the wall time);
- 8 concurrent clients, not streaming: tokens/s of the whole (where batching requests
  together pays);
- 8 concurrent clients, streaming: tokens/s of the whole and the median time to first
  token (ltx batches concurrent streams too; the plain app streams each in its own
  ``generate`` thread); and the server process's CPU time meanwhile, as a share of the
  machine's cores and per generated token.

Each round measures both servers on an idle machine, then with a competing CPU load (one
busy process per core, started for those measurements and stopped after), as
``bench_serve_plain.py`` does for ``/predict``. Greedy decoding, ``max_tokens`` 48,
prompts asking for a few sentences about SST-2 phrases. The table gives medians over
rounds (min-max) and the ltx/plain ratio (for the time to first token plain/ltx: above 1
means ltx is faster in every column).

    python benchmarks/bench_serve_chat.py [--rounds 3] [--requests 8] [--loads idle,loaded]
        [--clients 1,8] [--ckpt C] [--also "NAME:SERVE ARGS" ...]

``--clients 1`` measures the one-client cells alone (many short rounds in the time of a
few full ones); ``--clients 8`` the eight-client ones.

``--also`` adds an ``ltx serve`` with other options to every round, as in
``bench_serve_plain.py``.

About ten minutes on two CPU cores per load.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_generate import make_checkpoint, prompts
from bench_serve import free_port, wait_healthy
from bench_serve_plain import add_also_option, busy, cpu_seconds, servers, start_ltx, start_plain

PLAIN_APP = textwrap.dedent(
    """
    import sys, threading, time, json
    import torch, uvicorn
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse
    from transformers import AutoModelForCausalLM, AutoTokenizer, TextIteratorStreamer

    tok = AutoTokenizer.from_pretrained(sys.argv[1])
    model = AutoModelForCausalLM.from_pretrained(sys.argv[1]).eval()
    app = FastAPI()

    @app.get("/health")
    def health() -> str:
        return "ok"

    @app.post("/v1/chat/completions")
    def chat(body: dict):
        ids = tok.apply_chat_template(body["messages"], add_generation_prompt=True,
                                      return_tensors="pt", return_dict=True)
        args = dict(**ids, max_new_tokens=body.get("max_tokens", 64), do_sample=False)
        if body.get("stream"):
            streamer = TextIteratorStreamer(tok, skip_prompt=True, skip_special_tokens=True)
            threading.Thread(target=lambda: model.generate(**args, streamer=streamer)).start()
            def events():
                for piece in streamer:
                    chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0,
                             "model": "plain", "choices": [{"index": 0,
                             "delta": {"content": piece}, "finish_reason": None}]}
                    yield f"data: {json.dumps(chunk)}\\n\\n"
                yield "data: [DONE]\\n\\n"
            return StreamingResponse(events(), media_type="text/event-stream")
        with torch.inference_mode():
            out = model.generate(**args)
        new = out[0, ids["input_ids"].shape[1]:]
        return {"id": "x", "object": "chat.completion", "created": int(time.time()),
                "model": "plain", "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant",
                            "content": tok.decode(new, skip_special_tokens=True)}}],
                "usage": {"prompt_tokens": ids["input_ids"].shape[1],
                          "completion_tokens": len(new),
                          "total_tokens": ids["input_ids"].shape[1] + len(new)}}

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
    """
)


# The model's tokenizer (both servers share it): counts a stream's tokens.
TOKENIZER: Any = None


def client(port: int) -> Any:
    from openai import OpenAI

    return OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", max_retries=0)


def stream_once(port: int, messages: Any, new_tokens: int) -> tuple[float, int, float]:
    """``(time to first token, tokens, wall time)`` of one streamed answer (tokens
    counted by the model's tokenizer, which both servers share)."""
    start = time.perf_counter()
    first = None
    text = ""
    for chunk in client(port).chat.completions.create(
        model="m", messages=messages, max_tokens=new_tokens, temperature=0, stream=True
    ):
        piece = chunk.choices[0].delta.content if chunk.choices else None
        if piece:
            first = first or time.perf_counter() - start
            text += piece
    wall = time.perf_counter() - start
    return first or wall, len(TOKENIZER(text)["input_ids"]), wall


def streamed(port: int, messages: Any, new_tokens: int) -> tuple[float, float]:
    """``(time to first token, tokens/s)`` of one streamed answer."""
    first, tokens, wall = stream_once(port, messages, new_tokens)
    return first, tokens / wall


def over_clients(batch: list[Any], clients: int, one: Any) -> tuple[list[Any], float]:
    """``one(messages)`` for every request of ``batch``, spread over ``clients``
    concurrent clients (threads): the results, and the wall time of the whole."""
    results: list[Any] = []
    lock = threading.Lock()

    def run(part: list[Any]) -> None:
        for messages in part:
            result = one(messages)
            with lock:
                results.append(result)

    parts = [batch[i::clients] for i in range(clients)]
    threads = [threading.Thread(target=run, args=(p,)) for p in parts if p]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - start


def answered(port: int, batch: list[Any], clients: int, new_tokens: int) -> float:
    """Tokens/s of ``batch`` answered over ``clients`` concurrent non-streaming clients."""

    local = threading.local()  # one client per thread, reused for its requests

    def one(messages: Any) -> int:
        if not hasattr(local, "api"):
            local.api = client(port)
        done = local.api.chat.completions.create(
            model="m", messages=messages, max_tokens=new_tokens, temperature=0
        )
        return int(done.usage.completion_tokens)

    tokens, wall = over_clients(batch, clients, one)
    return sum(tokens) / wall


def streamed_together(
    port: int, batch: list[Any], clients: int, new_tokens: int
) -> tuple[float, float]:
    """``(median time to first token, tokens/s of the whole)`` of ``batch`` streamed over
    ``clients`` concurrent clients."""
    results, wall = over_clients(
        batch, clients, lambda messages: stream_once(port, messages, new_tokens)[:2]
    )
    return statistics.median(f for f, _ in results), sum(n for _, n in results) / wall


def measure(
    cells: dict[tuple[str, str, str], list[float]],
    where: tuple[str, str],
    port: int,
    batch: list[Any],
    new_tokens: int,
    clients: Sequence[str] = ("1", "8"),
    pid: int | None = None,
) -> None:
    """One round of every cell for one server under one load, appended to ``cells``
    (keyed ``(load, server, cell)``); ``clients``: the one-client cells, the eight-client
    ones, or both. ``pid``: the server's process, whose CPU time the eight streams'
    cells also record."""

    def add(key: str, value: float) -> None:
        cells.setdefault((*where, key), []).append(value)

    if "1" in clients:
        ttft, rates = zip(*(streamed(port, m, new_tokens) for m in batch[:3]), strict=True)
        add("ttft", statistics.median(ttft))
        add("stream", statistics.median(rates))
        add("one", answered(port, batch[:3], 1, new_tokens))
    if "8" not in clients:
        return
    add("eight", answered(port, batch, 8, new_tokens))
    cpu0, start = cpu_seconds(pid) if pid else 0.0, time.perf_counter()
    ttft8, rate8 = streamed_together(port, batch, 8, new_tokens)
    wall = time.perf_counter() - start
    add("ttft8", ttft8)
    add("stream8", rate8)
    if pid:
        # How much of the machine the server got, and what a token cost it: on a loaded
        # machine the first of these sets the time to first token as much as the second.
        cpu = cpu_seconds(pid) - cpu0
        add("share8", 100 * cpu / wall / (os.cpu_count() or 1))
        add("cpu8", 1000 * cpu / (rate8 * wall))


def main() -> None:
    global TOKENIZER
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=8, help="Requests per measurement.")
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--ckpt", type=Path, help="A chat checkpoint of SmolLM2 to reuse.")
    parser.add_argument(
        "--loads",
        default="idle,loaded",
        help="Comma-separated: idle (nothing else running), loaded (one busy process per core).",
    )
    parser.add_argument(
        "--clients", default="1,8", help="the cells to measure: 1 (one client), 8, or both"
    )
    add_also_option(parser)
    args = parser.parse_args()
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    if not clients or not set(clients) <= {"1", "8"}:
        parser.error("--clients takes 1, 8 or 1,8")
    variants = servers(args.also)
    loads = {"idle": 0, "loaded": os.cpu_count() or 2}
    wanted = [name.strip() for name in args.loads.split(",") if name.strip()]
    if not wanted or any(name not in loads for name in wanted):
        parser.error(f"--loads takes a comma-separated list of {', '.join(loads)}")

    from ltx_llm.models import SMOLLM2, model_source
    from transformers import AutoTokenizer

    folder = model_source(SMOLLM2)
    assert folder is not None
    TOKENIZER = AutoTokenizer.from_pretrained(folder)
    work = Path(tempfile.mkdtemp(prefix="ltx-bench-serve-chat-"))
    ckpt = args.ckpt or make_checkpoint(work)
    app = work / "plain_app.py"
    app.write_text(PLAIN_APP, encoding="utf-8")
    ports = {name: free_port() for name in [*variants, "plain"]}
    procs = {name: start_ltx(ckpt, ports[name], extra=extra) for name, extra in variants.items()}
    procs["plain"] = start_plain(app, folder, ports["plain"])
    cells: dict[tuple[str, str, str], list[float]] = {}
    try:
        for name, proc in procs.items():
            wait_healthy(ports[name], proc)
        batch = prompts(args.requests)
        for name in ports:  # warm-up
            answered(ports[name], batch[:2], 2, 8)
        for round_ in range(args.rounds):
            for load in wanted:
                burners = [multiprocessing.Process(target=busy, daemon=True)
                           for _ in range(loads[load])]  # fmt: skip
                for b in burners:
                    b.start()
                try:
                    # Each round in the other order: load that drifts over a round hits
                    # both alike.
                    order = list(ports.items()) if round_ % 2 == 0 else list(ports.items())[::-1]
                    for name, port in order:
                        measure(
                            cells, (load, name), port, batch, args.new_tokens, clients,
                            pid=procs[name].pid,
                        )  # fmt: skip
                finally:
                    for b in burners:
                        b.terminate()
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(timeout=30)

    def cell(where: tuple[str, str], key: str, scale: float = 1.0, fmt: str = ".1f") -> str:
        values = [v * scale for v in cells[(*where, key)]]
        return f"{statistics.median(values):{fmt}} [{min(values):{fmt}}-{max(values):{fmt}}]"

    def ratio(load: str, server: str, key: str, inverse: bool = False) -> str:
        pairs = zip(cells[(load, server, key)], cells[(load, "plain", key)], strict=True)
        values = [(p / lt) if inverse else (lt / p) for lt, p in pairs]
        ahead = sum(v >= 1 for v in values)
        return (
            f"{statistics.median(values):.2f}x [{min(values):.2f}-{max(values):.2f}] "
            f"{ahead}/{len(values)}"
        )

    print(
        f"\nChat endpoint, SmolLM2-135M-Instruct, up to {args.new_tokens} new tokens, greedy; "
        f"{args.rounds} rounds; {platform.machine()}, {os.cpu_count()} CPUs; loaded: one "
        "busy process per core"
    )
    rows = [
        ("1 client, stream: time to first token (ms)", "ttft", 1000.0, True),
        ("1 client, stream: tokens/s", "stream", 1.0, False),
        ("1 client: tokens/s", "one", 1.0, False),
        ("8 clients: tokens/s", "eight", 1.0, False),
        ("8 clients, stream: time to first token (ms)", "ttft8", 1000.0, True),
        ("8 clients, stream: tokens/s", "stream8", 1.0, False),
        ("8 clients, stream: server's CPU share (%)", "share8", 1.0, None),
        ("8 clients, stream: server's CPU ms/token", "cpu8", 1.0, True),
    ]
    for server in variants:
        print(f"\n{server} against the plain app")
        print(
            f"{'load':<7} {'measure':<44} {'plain':>22} {server[:22]:>22} "
            f"{'ratio (ltx better > 1), rounds ahead':>38}"
        )
        for load in wanted:
            for label, key, scale, inverse in rows:
                if (load, server, key) not in cells:
                    continue
                print(
                    f"{load:<7} {label:<44} {cell((load, 'plain'), key, scale):>22} "
                    f"{cell((load, server), key, scale):>22} "
                    f"{'' if inverse is None else ratio(load, server, key, inverse):>38}"
                )
    print(f"checkpoint: {ckpt}")


if __name__ == "__main__":
    main()
