"""OpenAI's ``POST /v1/chat/completions`` for chat checkpoints, through LitServe's
``OpenAISpec`` (plain and ``stream: true`` server-sent events).

Served beside ``/predict`` when the checkpoint's task can chat (its class has
``stream_chat(messages, options)``, as ltx-llm's ``chat`` task does): a second LitAPI
with its own model worker, so the OpenAI client, and anything built on it, talks to
the fine-tuned model. The request's sampling fields map to the task's prediction
options (``max_tokens``/``max_completion_tokens``, ``temperature``, ``top_p``,
``stop``); a request the task refuses gets a 4xx with one sentence.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import litserve as ls
from fastapi import HTTPException
from litserve.specs.openai import OpenAISpec

from ltx_core.errors import LtxError

__all__ = ["ChatCompletionsAPI", "can_chat", "openai_options"]


def can_chat(task_class: Any) -> bool:
    """Whether a task class answers chat completions."""
    return callable(getattr(task_class, "stream_chat", None))


def _content(value: Any) -> str:
    """A message's content: text, or the text parts of a list of content parts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    parts = []
    for part in value:
        kind = getattr(part, "type", None) or (part.get("type") if isinstance(part, dict) else None)
        if kind != "text":
            raise HTTPException(
                400, f"Message content of type '{kind}' is not supported; send text."
            )
        parts.append(getattr(part, "text", None) or part.get("text", ""))
    return "".join(parts)


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
    return out


class ChatCompletionsAPI(ls.LitAPI):
    """The checkpoint's chat task behind LitServe's OpenAI spec (one request at a time,
    its answer streamed piece by piece)."""

    def __init__(self, ckpt: str, *, precision: str | None = None) -> None:
        super().__init__(spec=OpenAISpec(), max_batch_size=1)
        self.ckpt = ckpt
        self.precision = precision
        self.predictor: Any = None
        self.setup_error: str | None = None

    def setup(self, device: str) -> None:
        from ltx_serve.worker import load_on_device

        self.predictor, self.setup_error = load_on_device(self.ckpt, device, self.precision)

    def predict(self, request: Any, context: dict[str, Any]) -> Iterator[Any]:
        if self.predictor is None:
            raise HTTPException(503, self.setup_error or "The model is not loaded.")
        messages = [{"role": str(m.role), "content": _content(m.content)} for m in request.messages]
        task = self.predictor.module
        tokenizer = task.tokenizer
        try:
            options = self.predictor.parse_options(openai_options(context))
            prompt = task.chat_prompt(messages, options)
        except LtxError as exc:
            raise HTTPException(422, str(exc)) from None
        pieces = []
        with self.predictor.running():
            for piece in task.stream_chat(messages, options):
                pieces.append(piece)
                yield {"role": "assistant", "content": piece}
        # The answer's tokens, counted once it is whole.
        completion = len(tokenizer("".join(pieces), add_special_tokens=False)["input_ids"])
        # The last item carries the token counts (LitServe sums them into `usage`).
        yield {
            "role": "assistant",
            "content": "",
            "prompt_tokens": len(prompt),
            "completion_tokens": completion,
            "total_tokens": len(prompt) + completion,
        }
