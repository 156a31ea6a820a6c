"""``ltx serve``: a checkpoint behind an HTTP server, in one process.

One FastAPI app, run by uvicorn on this process's event loop, and one model thread per
device (:mod:`ltx_serve.worker`), each owning that device's
:class:`~ltx_core.inference.predictor.Predictor`. Requests from every client meet in
one batching queue (:mod:`ltx_serve.batching`); a model thread takes up to
``max_batch_size`` of them and predicts them as one batch (dynamic batching), waiting
up to ``batch_timeout`` seconds for more only while more are on their way in, and
resolves each request's future on the event loop.

Up to ltx-serve 0.2.0 this ran on LitServe: API server processes and model worker
processes, with queues between them polled every millisecond. Each request crossed
two processes and was pickled twice, and on a loaded machine every hop waited for a
core: against a plain FastAPI + ``transformers.pipeline`` app serving the same model,
LitServe's one-client latency was 0.96x the plain app's idle but 0.53x with a busy
process per core, and its throughput at 16 clients fell from 2.10x to 0.55x
(``benchmarks/bench_serve_plain.py``). In one process the request is a coroutine until
its batch runs, and nothing polls.

Endpoints:

- ``POST /predict`` ``{"inputs": [...], "options": {...}}`` -> ``{"outputs": [...]}``,
  in order, each what ``ltx predict`` prints for that input (one :class:`Predictor`
  path for both).
- ``GET /health``: ``ok`` (200) once the model is loaded (the server listens only then).
- ``GET /info``: task, dataset, backbone / model, labels, what an input is, the options'
  JSON schema, and the server's settings. OpenAPI docs at ``/docs``.
- ``POST /v1/chat/completions`` for chat checkpoints (:mod:`ltx_serve.openai_chat`).

Bad requests never reach the model: every request is checked as its body is parsed
(:class:`PredictRequest`), by the task's own input and option checks (pure checks of
the loaded task's config, hand-off and tokenizer settings; they run on the event loop
while the model thread predicts). A malformed body, a wrong type, an unknown option or
an oversized body (413) gets a 4xx ``{"error": "<one sentence>"}`` and the server goes
on serving; a request the task refuses while predicting fails alone (422).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import socket
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ltx_core.engine.environment import check_accelerator
from ltx_core.errors import LtxError
from ltx_serve import __version__
from ltx_serve.batching import ARRIVAL_KEY, Batcher, wait_result
from ltx_serve.openai_chat import CHAT_PATH, add_chat_routes, can_chat, openai_error
from ltx_serve.worker import (
    CoreShare,
    ModelThread,
    PredictJob,
    bound_openmp_spin,
    cpu_cores,
    sentence,
    torch_threads,
)

__all__ = [
    "Arrivals",
    "BodyLimit",
    "ErrorResponse",
    "PredictRequest",
    "PredictResponse",
    "build_app",
    "serve",
]

log = logging.getLogger(__name__)

PREDICT_PATH = "/predict"
#: The usual addresses to bind; any address of this machine is taken (see _bind).
HOSTS = ("127.0.0.1", "0.0.0.0", "::")
#: Model threads on the CPU when ``--devices`` is not given (fewer on a machine with
#: fewer cores): while one computes it has every core; with two, a second batch does not
#: wait for the first, and each takes half the cores (``CoreShare``).
CPU_MODEL_THREADS = 2

# The loaded task's checks, read by PredictRequest as FastAPI parses a body (one server
# per process; set before the server listens).
_CHECKER: Any = None


class PredictRequest(BaseModel):
    """The body of ``POST /predict``."""

    model_config = ConfigDict(extra="forbid")

    inputs: list[Any] = Field(
        description="The inputs, each what the task takes (GET /info says what: a string for "
        "text tasks, an object of named texts for pair tasks, ...)."
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="The task's prediction options (GET /info has their schema); "
        "unset ones take the checkpoint's defaults.",
    )

    @model_validator(mode="after")
    def _task_accepts(self) -> PredictRequest:
        if _CHECKER is not None:
            try:
                # Checked only: the model thread normalises the inputs as ltx predict does.
                _CHECKER.check_inputs(self.inputs)
                _CHECKER.parse_options(self.options)
            except LtxError as exc:
                raise ValueError(str(exc)) from None
        return self


class PredictResponse(BaseModel):
    """The answer of ``POST /predict``: one output per input, in order."""

    outputs: list[Any] = Field(description="What `ltx predict` prints for each input.")


class ErrorResponse(BaseModel):
    """Every error of ``/predict``: one sentence."""

    error: str


class BodyLimit:
    """Refuses a request body over ``max_bytes`` with 413 (declared or streamed size)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> JSONResponse:
        return JSONResponse(
            {"error": f"The request body is larger than this server's limit of {self.max_bytes} "
             "bytes (ltx serve --max-body-bytes)."},
            status_code=413,
        )  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large()(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise StarletteHTTPException(413, bytes(self._too_large().body).decode())
            return message

        await self.app(scope, counted, send)


class Arrivals:
    """Counts a request to a batched endpoint as arriving from its headers until it is
    queued (or answered without being queued), so that a batch waits for it while its
    body comes in and is checked (:class:`~ltx_serve.batching.Arrival`)."""

    def __init__(self, app: ASGIApp, batcher: Batcher, paths: frozenset[str]) -> None:
        self.app = app
        self.batcher = batcher
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or scope.get("path") not in self.paths
        ):
            await self.app(scope, receive, send)
            return
        arrival = self.batcher.arrival()
        scope[ARRIVAL_KEY] = arrival
        try:
            await self.app(scope, receive, send)
        finally:
            arrival.end()


def _validation_message(exc: RequestValidationError) -> tuple[int, str]:
    errors = list(exc.errors())
    if not errors:
        return 422, "The request is not valid."
    first = errors[0]
    kind = str(first.get("type", ""))
    if kind == "json_invalid":
        return 400, "The request body is not valid JSON."
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    msg = str(first.get("msg", "is not valid")).removeprefix("Value error, ")
    if kind == "missing" and not loc:
        return 400, 'The request has no JSON body; send {"inputs": [...]}.'
    if not loc and kind in ("model_attributes_type", "model_type", "dict_type"):
        return 422, 'The request body must be a JSON object: {"inputs": [...], "options": {...}}.'
    if kind == "value_error":
        return 422, sentence(msg)
    if kind == "extra_forbidden":
        return 422, sentence(
            f"The request has the unknown field '{'.'.join(loc)}'; it takes 'inputs' and 'options'"
        )
    where = f"'{'.'.join(loc)}'" if loc else "The request body"
    return 422, sentence(f"{where}: {msg}")


def _chat_validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = list(exc.errors())
    if not errors:
        return "The request is not valid.", None
    first = errors[0]
    if first.get("type") == "json_invalid":
        return "The request body is not valid JSON.", None
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    if first.get("type") == "missing" and not loc:
        return 'The request has no JSON body; send {"model": ..., "messages": [...]}.', None
    msg = str(first.get("msg", "is not valid")).removeprefix("Value error, ")
    where = ".".join(loc)
    return (f"'{where}': {msg}" if where else msg), (loc[0] if loc else None)


def _add_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error": "<one sentence>"}`` (FastAPI says ``{"detail": ...}``);
    the OpenAI endpoint's in OpenAI's shape."""

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        content_type = request.headers.get("content-type", "")
        if content_type and "json" not in content_type.lower():
            message = (
                f"The request body must be JSON (Content-Type: application/json), "
                f"not {content_type}."
            )
            if request.url.path == CHAT_PATH:
                return openai_error(415, message)
            return JSONResponse({"error": message}, status_code=415)
        if request.url.path == CHAT_PATH:
            chat_message, param = _chat_validation_message(exc)
            return openai_error(400, chat_message, param=param)
        status, message = _validation_message(exc)
        return JSONResponse({"error": message}, status_code=status)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail
        if isinstance(detail, str) and detail.startswith('{"error"'):
            return JSONResponse(json.loads(detail), status_code=exc.status_code)
        if exc.status_code == 404:
            message = f"There is no endpoint {request.url.path}; see /docs."
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs."
        else:
            message = sentence(str(detail))
        return JSONResponse({"error": message}, status_code=exc.status_code)

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": sentence(message)}, status_code=status)


def build_app(
    predictor: Any,
    batcher: Batcher,
    *,
    ckpt: str,
    max_body_bytes: int = 8 * 1024 * 1024,
    timeout: float = 60.0,
    model_threads: int = 1,
) -> FastAPI:
    """The app of a loaded checkpoint: ``predictor`` checks requests and describes the
    model; the ``model_threads`` serving ``batcher`` answer them."""
    global _CHECKER
    _CHECKER = predictor
    chat = can_chat(type(predictor.module))
    info: dict[str, Any] = {
        **predictor.info(),
        "server": {
            "max_batch_size": batcher.max_batch_size,
            "batch_timeout": batcher.batch_timeout,
            "max_body_bytes": max_body_bytes,
            "model_threads": model_threads,
            "openai_chat": CHAT_PATH if chat else None,
        },
    }
    app = FastAPI(
        title=f"ltx serve: {info['task']}",
        description=f"`{Path(ckpt).name}` ({info['task']}); inputs: {info['input']}.",
        version=__version__,
    )
    errors: dict[int | str, dict[str, Any]] = {
        code: {"model": ErrorResponse, "description": what}
        for code, what in (
            (400, "Malformed JSON, or no body."),
            (413, "The body is over --max-body-bytes."),
            (415, "The body is not JSON."),
            (422, "A wrong type, an unknown field or option, or inputs the task refuses."),
            (504, "The request waited longer than --timeout."),
        )
    }

    @app.get("/health", response_class=PlainTextResponse)
    async def health() -> PlainTextResponse:
        """``ok`` while the model serves."""
        return PlainTextResponse("ok")

    @app.get("/info")
    async def model_info() -> dict[str, Any]:
        """The task, its labels and model, what an input is, and the options' schema."""
        return info

    @app.post(PREDICT_PATH, response_model=PredictResponse, responses=errors)
    async def predict(request: Request, body: PredictRequest) -> Response:
        """The outputs of the inputs, in order, each what ``ltx predict`` prints."""
        job = batcher.submit(
            PredictJob(body.inputs, body.options), arrival=request.scope.get(ARRIVAL_KEY)
        )
        try:
            outputs = await wait_result(batcher, job, timeout)
        except TimeoutError:
            waited = f"The request waited more than {timeout:g} s for its result"
            return _error(504, f"{waited} (ltx serve --timeout)")
        except LtxError as exc:  # the task refused this request while predicting
            return _error(422, str(exc))
        except RuntimeError as exc:
            if "shutting down" in str(exc):
                return _error(503, str(exc))
            return _error(500, f"The model failed: {exc}")
        except Exception as exc:
            return _error(500, f"The model failed: {type(exc).__name__}: {exc}")
        return JSONResponse({"outputs": outputs})

    paths = {PREDICT_PATH}
    if chat:
        add_chat_routes(app, batcher=batcher, checker=predictor, timeout=timeout)
        paths.add(CHAT_PATH)
    app.add_middleware(Arrivals, batcher=batcher, paths=frozenset(paths))
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    _add_error_handlers(app)
    return app


def _check_settings(
    *,
    max_batch_size: int,
    batch_timeout: float,
    max_body_bytes: int,
    timeout: float,
    devices: int | None,
) -> None:
    if max_batch_size < 1:
        raise LtxError(f"--max-batch-size must be at least 1, not {max_batch_size}.")
    if batch_timeout < 0:
        raise LtxError(f"--batch-timeout must be 0 or more seconds, not {batch_timeout}.")
    if max_body_bytes < 1:
        raise LtxError(f"--max-body-bytes must be at least 1, not {max_body_bytes}.")
    if timeout <= 0:
        raise LtxError(f"--timeout must be more than 0 seconds, not {timeout}.")
    if devices is not None and devices < 1:
        raise LtxError(f"--devices must be at least 1, not {devices}.")


def _bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (not yet listening: the server listens once the
    model is loaded). Any address of this machine, or a name of one, is taken."""
    wrong_host = LtxError(
        f"--host takes an address of this machine ({', '.join(HOSTS)} or another of its "
        f"own), not '{host}'."
    )
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        raise wrong_host from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise LtxError(
                f"Port {port} on {host} is in use; stop what listens there or pick another --port."
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise wrong_host from None
        raise LtxError(f"Cannot bind {host}:{port}: {exc.strerror or exc}.") from None
    return sock


def _accelerator(accelerator: str) -> str:
    """The accelerator the model threads use: ``cpu``, ``gpu`` or ``mps``."""
    kind = {"gpu": "gpu", "cuda": "gpu", "cpu": "cpu", "mps": "mps", "auto": "auto"}.get(
        accelerator
    )
    if kind is None:
        raise LtxError(f"--accelerator takes cpu, gpu, mps or auto, not '{accelerator}'.")
    if kind != "auto":
        return kind
    import torch

    if torch.cuda.is_available():
        return "gpu"
    mps = getattr(torch.backends, "mps", None)
    return "mps" if mps is not None and mps.is_available() else "cpu"


def _loading_stopped(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM while the model loads: stop right there


def _after_shutdown(signum: int, frame: Any) -> None:
    """uvicorn re-raises the signal that stopped it once it has shut down; by then the
    shutdown is done, and the command exits 0."""


def serve(
    ckpt: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    accelerator: str = "auto",
    devices: int | None = None,
    precision: str | None = None,
    max_batch_size: int = 16,
    batch_timeout: float = 0.005,
    max_body_bytes: int = 8 * 1024 * 1024,
    timeout: float = 60.0,
) -> None:
    """Load the checkpoint, then serve it until SIGTERM or Ctrl-C (both shut it down
    cleanly); a mistake, or a checkpoint that does not load, stops it before it listens
    (``LtxError``)."""
    _check_settings(
        max_batch_size=max_batch_size,
        batch_timeout=batch_timeout,
        max_body_bytes=max_body_bytes,
        timeout=timeout,
        devices=devices,
    )
    _bind(host, 0).close()  # the address alone, before the port and the checkpoint
    if not 1024 <= port <= 65535:
        raise LtxError(f"--port must be between 1024 and 65535, not {port}.")
    if not Path(ckpt).is_file():
        raise LtxError(f"Checkpoint '{ckpt}' does not exist.")
    bound_openmp_spin()  # before anything imports torch
    kind = _accelerator(accelerator)
    check_accelerator(kind, devices or 1)
    # The model thread tokenizes its batches itself; the tokenizers' own thread pool
    # would only compete with torch's threads for the same cores.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sock = _bind(host, port)  # held from now on: a port in use is said before loading
    batcher = Batcher(max_batch_size=max_batch_size, batch_timeout=batch_timeout)
    if devices is None:
        devices = min(CPU_MODEL_THREADS, cpu_cores()) if kind == "cpu" else 1
    threads = torch_threads(devices if kind == "cpu" else 1)
    # The CPU's model threads share its cores by how many compute at once, unless the
    # user chose torch's threads (OMP_NUM_THREADS).
    cores = CoreShare(cpu_cores(), devices) if kind == "cpu" and threads is not None else None
    models: list[ModelThread] = []
    for i in range(devices):
        models.append(
            ModelThread(
                batcher,
                ckpt,
                accelerator=kind,
                device=i if kind == "gpu" else None,
                precision=precision,
                threads=threads,
                cores=cores,
                # The CPU is one device: its model threads share one copy of the weights.
                share=models[0] if kind == "cpu" and models else None,
                rank=i,
            )
        )
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.getsignal(sig) for sig in handled}
    signal.signal(signal.SIGTERM, _loading_stopped)
    try:
        for model in models:
            model.start()
        predictors = [model.wait_loaded() for model in models]
        app = build_app(
            predictors[0],
            batcher,
            ckpt=ckpt,
            max_body_bytes=max_body_bytes,
            timeout=timeout,
            model_threads=len(models),
        )
        import uvicorn

        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            # Streams in flight at shutdown get this long to finish.
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        for sig in handled:
            signal.signal(sig, _after_shutdown)
        chat = f" and {CHAT_PATH}" if can_chat(type(predictors[0].module)) else ""
        log.warning(
            "Serving %s on http://%s:%d (POST /predict%s, GET /health, GET /info, docs at /docs).",
            ckpt,
            host,
            port,
            chat,
        )
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before uvicorn took the signals
        return
    finally:
        batcher.close()
        for model in models:
            if model.loaded.is_set():  # one still loading cannot stop; it is a daemon
                model.join(timeout=10)
        sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
