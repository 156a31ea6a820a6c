"""``ltx serve``: a checkpoint behind an HTTP server, on LitServe (FastAPI underneath).

LitServe runs the model in inference worker processes (one per device) and the HTTP
side in API server processes; requests from every client meet in one queue, and with
``max_batch_size > 1`` a worker takes up to that many requests at once (waiting at most
``batch_timeout`` seconds for them) and predicts them as one batch: dynamic batching.

Endpoints:

- ``POST /predict`` ``{"inputs": [...], "options": {...}}`` -> ``{"outputs": [...]}``,
  in order, each what ``ltx predict`` prints for that input (one :class:`Predictor`
  path for both).
- ``GET /health`` (LitServe's): 200 once every worker has loaded the model.
- ``GET /info``: task, dataset, backbone / model, labels, what an input is, and the
  options' JSON schema. OpenAPI docs at ``/docs``.

Bad requests never reach a worker. LitServe batches requests *before* it decodes them,
and one failing request would fail its whole batch, so every request is checked in the
API server process as its body is parsed (:class:`PredictRequest`): the inputs and the
options are validated there by the task's own checks, against a copy of the model
whose weights were dropped (only its config, hand-off and tokenizer are needed). A
malformed body, a wrong type, an unknown option or an oversized body (413) gets a 4xx
``{"error": "<one sentence>"}`` and the server goes on serving.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import litserve as ls
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ltx_core.engine.environment import check_accelerator
from ltx_core.errors import LtxError

__all__ = [
    "BodyLimit",
    "LtxLitAPI",
    "PredictRequest",
    "PredictResponse",
    "build_server",
    "serve",
]

log = logging.getLogger(__name__)

#: LitServe's own server description moves here; ``/info`` describes the model.
SERVER_INFO_PATH = "/server-info"
#: What LitServe's ``run`` accepts as a host.
HOSTS = ("127.0.0.1", "0.0.0.0", "::")

# The API server processes' checker: a Predictor without weights, set before LitServe
# forks them (they inherit it). Inference workers are spawned fresh and never use it.
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
        # Runs in the API server as the body is parsed; unpickling in a worker does not.
        if _CHECKER is not None:
            try:
                # Checked only: the worker's predict normalises the inputs as ltx predict does.
                _CHECKER.check_inputs(self.inputs)
                _CHECKER.parse_options(self.options)
            except LtxError as exc:
                raise ValueError(str(exc)) from None
        return self


class PredictResponse(BaseModel):
    """The answer of ``POST /predict``: one output per input, in order."""

    outputs: list[Any] = Field(description="What `ltx predict` prints for each input.")


class LtxLitAPI(ls.LitAPI):
    """The checkpoint's :class:`~ltx_core.inference.predictor.Predictor` as a LitServe API."""

    def __init__(
        self,
        ckpt: str,
        *,
        precision: str | None = None,
        max_batch_size: int = 16,
        batch_timeout: float = 0.005,
    ) -> None:
        super().__init__(max_batch_size=max_batch_size, batch_timeout=batch_timeout)
        self.ckpt = ckpt
        self.precision = precision
        self.predictor: Any = None
        self.setup_error: str | None = None

    def setup(self, device: str) -> None:
        """Load the checkpoint on this worker's device (``cpu``, ``cuda:1``, ``mps``)."""
        from ltx_serve.worker import load_on_device

        self.predictor, self.setup_error = load_on_device(self.ckpt, device, self.precision)

    def decode_request(self, request: PredictRequest) -> tuple[list[Any], dict[str, Any]]:
        return request.inputs, request.options

    def batch(self, inputs: list[Any]) -> list[Any]:
        return list(inputs)  # the requests of one batch, predicted together below

    def predict(self, x: Any) -> Any:
        """Every request of the batch; those with the same options share model calls.

        A request the task refuses while predicting (its ``predict_batch`` raising
        ``LtxError`` for that request's inputs or options) fails alone: its group is
        predicted again one request at a time, and only the request that fails gets
        the 422; the others of its batch get their results.
        """
        if self.predictor is None:
            from fastapi import HTTPException

            raise HTTPException(503, _sentence(self.setup_error or "The model is not loaded"))
        requests: Sequence[tuple[list[Any], dict[str, Any]]] = x if self.max_batch_size > 1 else [x]
        outputs: list[Any] = [[] for _ in requests]
        groups: dict[str, list[int]] = {}
        for i, (_, options) in enumerate(requests):
            groups.setdefault(json.dumps(options, sort_keys=True, default=str), []).append(i)
        for members in groups.values():
            try:
                results = self._predict_together([requests[i] for i in members])
            except LtxError as exc:  # checked in the API server already; a task's late "no"
                if len(members) == 1:
                    outputs[members[0]] = _refused(str(exc))
                    continue
                for i in members:
                    try:
                        (outputs[i],) = self._predict_together([requests[i]])
                    except LtxError as one:
                        outputs[i] = _refused(str(one))
                continue
            for i, result in zip(members, results, strict=True):
                outputs[i] = result
        if self.max_batch_size > 1:
            return outputs
        if isinstance(outputs[0], JSONResponse):  # one request: its own error, as before
            from fastapi import HTTPException

            raise HTTPException(422, json.loads(bytes(outputs[0].body))["error"])
        return outputs[0]

    def _predict_together(self, requests: Sequence[tuple[list[Any], dict[str, Any]]]) -> list[Any]:
        """Requests with the same options as one batch; each request's outputs, in order."""
        options = self.predictor.parse_options(requests[0][1])
        flat = [item for inputs, _ in requests for item in inputs]
        results = self.predictor.predict(flat, options) if flat else []
        out, start = [], 0
        for inputs, _ in requests:
            out.append(list(results[start : start + len(inputs)]))
            start += len(inputs)
        return out

    def unbatch(self, output: Any) -> list[Any]:
        return list(output)

    def encode_response(self, output: Any) -> Any:
        if isinstance(output, JSONResponse):  # this request's own refusal (see predict)
            return output
        return PredictResponse(outputs=output)


def _refused(message: str) -> JSONResponse:
    """The answer to one request the task refused while predicting: a 422 with its
    sentence, carried back from the model worker in place of that request's outputs."""
    return JSONResponse(status_code=422, content={"error": _sentence(message)})


# LitServe reads the request and response models off these two signatures (for FastAPI's
# body parsing and the OpenAPI docs); with postponed annotations they would be strings.
LtxLitAPI.decode_request.__annotations__["request"] = PredictRequest
LtxLitAPI.encode_response.__annotations__["return"] = PredictResponse


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


def _sentence(text: str) -> str:
    text = " ".join(str(text).split())
    return text if text.endswith((".", "?", "!")) else text + "."


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
        return 422, _sentence(msg)
    if kind == "extra_forbidden":
        return 422, _sentence(
            f"The request has the unknown field '{'.'.join(loc)}'; it takes 'inputs' and 'options'"
        )
    where = f"'{'.'.join(loc)}'" if loc else "The request body"
    return 422, _sentence(f"{where}: {msg}")


def _add_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error": "<one sentence>"}`` (FastAPI says ``{"detail": ...}``)."""

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        content_type = request.headers.get("content-type", "")
        if content_type and "json" not in content_type.lower():
            return JSONResponse(
                {"error": f"The request body must be JSON (Content-Type: application/json), "
                 f"not {content_type}."},
                status_code=415,
            )  # fmt: skip
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
            message = _sentence(str(detail))
        return JSONResponse({"error": message}, status_code=exc.status_code)

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


class _Checker(threading.Thread):
    """Loads the checkpoint's Predictor for describing and checking requests, its weights
    dropped, while LitServe starts the model workers (each imports torch and loads the
    model too: in parallel, start-up takes one load's time instead of two)."""

    def __init__(self, ckpt: str) -> None:
        super().__init__(name="ltx-serve-checker", daemon=True)
        self.ckpt = ckpt
        self.predictor: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            from ltx_core.inference.predictor import Predictor

            predictor = Predictor.from_checkpoint(self.ckpt, accelerator="cpu")
            # The API servers check requests with the task's config, hand-off and tokenizer
            # only; meta tensors free the weights (the workers hold the real ones).
            predictor.module.to("meta")
            self.predictor = predictor
        except BaseException as exc:  # handed to the main thread, which reports it
            self.error = exc

    def result(self) -> Any:
        self.join()
        if self.error is not None:
            raise self.error
        return self.predictor


class _Server(ls.LitServer):
    """LitServer that forks its API servers only once the request checker is ready."""

    checker: _Checker
    info: dict[str, Any]

    def verify_worker_status(self) -> None:
        global _CHECKER
        predictor = self.checker.result()  # a bad checkpoint stops here, in one sentence
        super().verify_worker_status()
        _CHECKER = predictor
        self.info.update(predictor.info(), server=self.info.get("server", {}))
        self.app.title = f"ltx serve: {self.info['task']}"
        self.app.description = (
            f"`{Path(self.checker.ckpt).name}` ({self.info['task']}); inputs: {self.info['input']}."
        )


def build_server(
    ckpt: str,
    *,
    accelerator: str = "auto",
    devices: int = 1,
    precision: str | None = None,
    max_batch_size: int = 16,
    batch_timeout: float = 0.005,
    max_body_bytes: int = 8 * 1024 * 1024,
    timeout: float = 60.0,
) -> ls.LitServer:
    """The LitServer of a checkpoint, its requests checked and its errors one sentence."""
    if max_batch_size < 1:
        raise LtxError(f"--max-batch-size must be at least 1, not {max_batch_size}.")
    if batch_timeout < 0:
        raise LtxError(f"--batch-timeout must be 0 or more seconds, not {batch_timeout}.")
    if max_body_bytes < 1:
        raise LtxError(f"--max-body-bytes must be at least 1, not {max_body_bytes}.")
    if devices < 1:
        raise LtxError(f"--devices must be at least 1, not {devices}.")
    kind = {"gpu": "cuda", "cuda": "cuda", "cpu": "cpu", "mps": "mps", "auto": "auto"}.get(
        accelerator
    )
    if kind is None:
        raise LtxError(f"--accelerator takes cpu, gpu, mps or auto, not '{accelerator}'.")
    check_accelerator(kind, devices)
    if not Path(ckpt).is_file():
        raise LtxError(f"Checkpoint '{ckpt}' does not exist.")
    checker = _Checker(ckpt)
    checker.start()
    api = LtxLitAPI(
        ckpt, precision=precision, max_batch_size=max_batch_size, batch_timeout=batch_timeout
    )
    apis: list[ls.LitAPI] = [api]
    chat = _chat_task(ckpt)
    if chat:
        from ltx_serve.openai_chat import ChatCompletionsAPI

        apis.append(ChatCompletionsAPI(ckpt, precision=precision))
    server = _Server(
        apis,
        accelerator=kind,
        devices=devices,
        timeout=timeout,
        info_path=SERVER_INFO_PATH,
        middlewares=[(BodyLimit, {"max_bytes": max_body_bytes})],
    )
    server.checker = checker
    # Filled in once the checker has read the checkpoint, before the API servers fork.
    info: dict[str, Any] = {
        "server": {
            "max_batch_size": max_batch_size,
            "batch_timeout": batch_timeout,
            "max_body_bytes": max_body_bytes,
            "openai_chat": "/v1/chat/completions" if chat else None,
        }
    }
    server.info = info

    @server.app.get("/info")
    async def model_info() -> dict[str, Any]:
        """The task, its labels and model, what an input is, and the options' schema."""
        return info

    _add_error_handlers(server.app)
    return server


def _chat_task(ckpt: str) -> bool:
    """Whether the checkpoint's task answers chat completions (read from its record, the
    weights untouched)."""
    from ltx_core.config.resolve import resolve_config
    from ltx_core.engine.checkpoints import read_record
    from ltx_core.registry.spec import load_object
    from ltx_serve.openai_chat import can_chat

    try:
        resolved = resolve_config(config_data=read_record(ckpt)["config"])
        return can_chat(load_object(resolved.task_spec.target))
    except LtxError:  # the checker reports a bad checkpoint in its own sentence
        return False


def _child_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def serve(
    ckpt: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    **settings: Any,
) -> None:
    """Run the server until SIGTERM or Ctrl-C; both shut it down cleanly."""
    if host not in HOSTS:
        raise LtxError(f"--host takes {', '.join(HOSTS)} (LitServe binds no other), not '{host}'.")
    if not 1024 <= port <= 65535:
        raise LtxError(f"--port must be between 1024 and 65535, not {port}.")
    # API servers are forked from this process: tokenizers must not have started threads.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    server = build_server(ckpt, **settings)

    def on_sigterm(signum: int, frame: Any) -> None:
        event = getattr(server, "_shutdown_event", None)
        if event is None:  # still starting: stop right here
            raise KeyboardInterrupt
        # LitServe's own way out of run(): its shutdown event (a manager proxy, so it is
        # set from a fresh thread, never from inside the blocked wait).
        threading.Thread(target=event.set, daemon=True).start()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    # LitServe forks its API servers (and its manager) from this process. Ctrl-C reaches
    # the whole process group, and this process stops them all: they ignore it, and they
    # die of SIGTERM plainly rather than running this process's handler.
    os.register_at_fork(after_in_child=_child_signals)
    chat = " and /v1/chat/completions" if server.info["server"]["openai_chat"] else ""
    log.warning(
        "Serving %s on http://%s:%d (POST /predict%s, GET /health, GET /info, docs at /docs).",
        ckpt,
        host,
        port,
        chat,
    )
    try:
        server.run(
            host=host, port=port, generate_client_file=False, log_level="warning", pretty_logs=False
        )
    except BaseException as exc:
        # Stopped while starting (Ctrl-C, SIGTERM, a bad checkpoint): LitServe's own
        # shutdown covers only a started server, so its model workers are stopped here.
        for worker in getattr(server, "inference_workers", []):
            worker.terminate()
            worker.join(timeout=5)
        if not isinstance(exc, KeyboardInterrupt):
            raise
    finally:
        signal.signal(signal.SIGTERM, previous)
