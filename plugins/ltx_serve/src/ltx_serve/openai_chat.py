"""OpenAI's ``POST /v1/chat/completions`` for chat checkpoints, plain and ``"stream":
true`` (server-sent events in OpenAI's chunk format, ending ``data: [DONE]``).

Served beside ``/predict`` when the checkpoint's task can chat (its class has
``stream_chat(messages, options)``, as ltx-llm's ``chat`` task does), from the same
app and the same loaded model: every use of the model goes through the model threads
(:mod:`ltx_serve.worker`), so the OpenAI client, and anything built on it, talks to the
fine-tuned model without a second copy of it. The request's sampling fields map to the
task's prediction options (``max_tokens``/``max_completion_tokens``, ``temperature``,
``top_p``, ``stop``, ``seed``).

- A plain completion is a prediction: it joins ``/predict``'s batching queue, and the
  completions of concurrent clients with the same options are generated together, in
  one batched ``generate`` call (the task's ``predict_batch``). Its ``finish_reason`` is
  the task's: ``length`` when ``max_tokens`` cut the answer, else ``stop``.
- Streamed completions are batched with each other the same way: the streams of
  concurrent clients with the same options are generated in one batched ``generate``
  call (the task's ``stream_chats``), each client's pieces pushed to its request's
  queue as its row produces them; a client that leaves ends its row. The
  ``finish_reason`` and token counts are the task's, as for a plain completion.

Errors are OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``: 400 for
a malformed request, 422 for one the task refuses (its sentence), 504 past
``ltx serve --timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ltx_core.errors import LtxError
from ltx_serve.batching import ARRIVAL_KEY, Batcher, wait_result
from ltx_serve.worker import ChatStream, PredictJob, sentence

__all__ = [
    "CHAT_PATH",
    "ChatCompletionRequest",
    "add_chat_routes",
    "can_chat",
    "openai_error",
    "openai_options",
]

CHAT_PATH = "/v1/chat/completions"


def can_chat(task_class: Any) -> bool:
    """Whether a task class answers chat completions."""
    return callable(getattr(task_class, "stream_chat", None))


class ContentPart(BaseModel):
    """A part of a message's content; only text parts are taken."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    """One message of the conversation."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[ContentPart] | None = None


class StreamOptions(BaseModel):
    """``stream_options``: ``include_usage`` adds a last chunk with the token counts."""

    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """The body of ``POST /v1/chat/completions`` (OpenAI's; fields this server does not
    use, such as ``user``, are accepted and ignored)."""

    model_config = ConfigDict(extra="allow")

    model: str = Field("ltx", description="Echoed in the answer; the served model answers.")
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    stop: str | list[str] | None = None
    seed: int | None = Field(None, ge=0)
    n: int | None = Field(None, ge=1, description="Answers per request: 1 only.")
    stream: bool = False
    stream_options: StreamOptions | None = None


class _BadRequest(Exception):
    """A request this endpoint cannot take (400), with its sentence."""


def _content(value: str | list[ContentPart] | None) -> str:
    """A message's content: text, or the text parts of a list of content parts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    parts = []
    for part in value:
        if part.type != "text":
            raise _BadRequest(f"Message content of type '{part.type}' is not supported; send text.")
        parts.append(part.text or "")
    return "".join(parts)


def _messages(request: ChatCompletionRequest) -> list[dict[str, str]]:
    # OpenAI's newer clients call the system message "developer".
    roles = {"developer": "system"}
    return [
        {"role": roles.get(m.role, m.role), "content": _content(m.content)}
        for m in request.messages
    ]


def openai_options(context: dict[str, Any]) -> dict[str, Any]:
    """The task's prediction options from an OpenAI request's fields."""
    out: dict[str, Any] = {}
    limit = context.get("max_completion_tokens") or context.get("max_tokens")
    if limit is not None:
        out["max_new_tokens"] = limit
    if context.get("temperature") is not None:
        out["temperature"] = context["temperature"]
    top_p = context.get("top_p")
    if top_p is not None and top_p < 1.0:
        out["top_p"] = top_p
    if context.get("stop"):
        out["stop"] = context["stop"]
    if context.get("seed") is not None:
        out["seed"] = context["seed"]
    return out


def openai_error(
    status: int, message: str, *, kind: str | None = None, param: str | None = None
) -> JSONResponse:
    """An error in OpenAI's shape (its clients read ``error.message``)."""
    kind = kind or ("invalid_request_error" if status < 500 else "server_error")
    body = {"error": {"message": sentence(message), "type": kind, "param": param, "code": None}}
    return JSONResponse(body, status_code=status)


def _failure(exc: BaseException) -> JSONResponse:
    if isinstance(exc, LtxError):
        return openai_error(422, str(exc))
    if isinstance(exc, RuntimeError) and "shutting down" in str(exc):
        return openai_error(503, str(exc))
    return openai_error(500, f"The model failed: {type(exc).__name__}: {exc}")


def _timed_out(timeout: float) -> JSONResponse:
    return openai_error(
        504,
        f"The request waited more than {timeout:g} s for the model (ltx serve --timeout)",
        kind="timeout",
    )


class _Reply:
    """What every chunk and answer of one completion shares."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model

    def answer(self, result: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": result["content"]},
                    "logprobs": None,
                    "finish_reason": result["finish_reason"],
                }
            ],
            "usage": _usage(result),
        }

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return self._event({"choices": [choice]})

    def usage_chunk(self, result: dict[str, Any]) -> str:
        return self._event({"choices": [], "usage": _usage(result)})

    def _event(self, fields: dict[str, Any]) -> str:
        head = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
        }
        return f"data: {json.dumps(head | fields)}\n\n"


def _usage(result: dict[str, Any]) -> dict[str, int]:
    prompt, completion = int(result["prompt_tokens"]), int(result["completion_tokens"])
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def add_chat_routes(app: FastAPI, *, batcher: Batcher, checker: Any, timeout: float) -> None:
    """``POST /v1/chat/completions`` on ``app``: requests checked by ``checker`` (the
    predictor's option and input checks) as they arrive, answered by the model threads
    that serve ``batcher``."""

    @app.post(
        CHAT_PATH,
        response_model=None,
        summary="OpenAI chat completions",
        tags=["openai"],
    )
    async def chat_completions(request: Request, body: ChatCompletionRequest) -> Response:
        """OpenAI's chat completions, plain or streamed (``"stream": true``)."""
        if body.n not in (None, 1):
            message = "n must be 1: this server gives one answer per request"
            return openai_error(400, message, param="n")
        try:
            messages = _messages(body)
        except _BadRequest as exc:
            return openai_error(400, str(exc), param="messages")
        options = openai_options(body.model_dump())
        try:
            checker.parse_options(options)
            checker.check_inputs([messages])
        except LtxError as exc:
            return openai_error(422, str(exc))
        arrival = request.scope.get(ARRIVAL_KEY)
        reply = _Reply(body.model)
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return await _streamed(
                batcher, messages, options, arrival, timeout, reply, include_usage
            )
        job = batcher.submit(PredictJob([messages], options, chat=True), arrival=arrival)
        try:
            result = await wait_result(batcher, job, timeout)
        except TimeoutError:
            return _timed_out(timeout)
        except Exception as exc:
            return _failure(exc)
        return JSONResponse(reply.answer(result))


async def _streamed(
    batcher: Batcher,
    messages: list[dict[str, str]],
    options: dict[str, Any],
    arrival: Any,
    timeout: float,
    reply: _Reply,
    include_usage: bool,
) -> Response:
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def push(event: tuple[str, Any]) -> None:  # from the model thread
        with contextlib.suppress(RuntimeError):  # a closed loop: the server has stopped
            loop.call_soon_threadsafe(events.put_nowait, event)

    stream = ChatStream(messages, options, push)
    job = batcher.submit(stream, kind=stream.kind, arrival=arrival)

    def on_done(future: asyncio.Future[Any]) -> None:
        # The stream reports its own errors; this one is the batcher's (shutting down).
        if not future.cancelled() and future.exception() is not None:
            events.put_nowait(("error", future.exception()))

    job.future.add_done_callback(on_done)
    try:
        kind, value = await asyncio.wait_for(events.get(), timeout)
    except asyncio.TimeoutError:
        stream.stop.set()
        batcher.abandon(job)
        return _timed_out(timeout)
    if kind == "error":  # refused before the first piece: a plain error answer
        return _failure(value)

    async def chunks() -> AsyncIterator[str]:
        try:
            yield reply.chunk({"role": "assistant", "content": ""})
            while True:
                kind, value = await events.get()
                if kind == "piece":
                    yield reply.chunk({"content": value})
                elif kind == "end":
                    yield reply.chunk({}, value["finish_reason"])
                    if include_usage:
                        yield reply.usage_chunk(value)
                    break
                else:  # failed after it started: OpenAI's way, an error event
                    error = json.loads(bytes(_failure(value).body))
                    yield f"data: {json.dumps(error)}\n\n"
                    break
            yield "data: [DONE]\n\n"
        finally:
            stream.stop.set()  # the client left, or the stream is over

    return StreamingResponse(
        chunks(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
