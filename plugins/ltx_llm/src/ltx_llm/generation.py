"""Batched generation from chat prompts: left padding, the KV cache, stop strings.

One ``model.generate`` call per batch of prompts (left-padded so every prompt ends where
generation starts), with the model's KV cache; greedy unless a temperature above 0 is
given. Generation stops at the end-of-turn token, at ``max_new_tokens``, or at a stop
string (cut from the text). :func:`stream` yields the text of one prompt as it comes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from threading import Thread
from typing import Any

import torch

__all__ = ["Completion", "DecodeSettings", "generate", "stream"]


@dataclass(frozen=True)
class DecodeSettings:
    """How to decode: the checkpoint's ``task.generation`` with request options over it."""

    max_new_tokens: int = 64
    temperature: float = 0.0
    top_p: float | None = None
    top_k: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def generate_kwargs(self) -> dict[str, Any]:
        """``model.generate`` keyword arguments."""
        out: dict[str, Any] = {"max_new_tokens": self.max_new_tokens}
        if self.temperature > 0:
            out |= {"do_sample": True, "temperature": self.temperature}
            if self.top_p is not None:
                out["top_p"] = self.top_p
            if self.top_k is not None:
                out["top_k"] = self.top_k
        else:
            # Greedy; the model's generation config may ask for sampling, the user did not.
            out |= {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        return out


@dataclass
class Completion:
    """One generated answer."""

    text: str
    tokens: int
    finish_reason: str  # "stop" (end of turn or a stop string) or "length"


def _stop_ids(tokenizer: Any, model: Any) -> list[int]:
    ids = {int(tokenizer.eos_token_id)} if tokenizer.eos_token_id is not None else set()
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if isinstance(configured, int):
        ids.add(configured)
    elif isinstance(configured, list):
        ids.update(int(i) for i in configured)
    return sorted(ids)


def _cut(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    at = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:at], True) if at >= 0 else (text, False)


@torch.inference_mode()
def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Sequence[int]],
    settings: DecodeSettings,
) -> list[Completion]:
    """Complete every prompt (token ids) in one batched ``generate`` call."""
    if settings.seed is not None:
        torch.manual_seed(settings.seed)
    device = next(model.parameters()).device
    pad = int(tokenizer.pad_token_id)
    longest = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), longest), pad, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, p in enumerate(prompts):
        ids[i, longest - len(p) :] = torch.tensor(list(p), dtype=torch.long)
        mask[i, longest - len(p) :] = 1
    eos = _stop_ids(tokenizer, model)
    out = model.generate(
        input_ids=ids.to(device),
        attention_mask=mask.to(device),
        pad_token_id=pad,
        eos_token_id=eos,
        use_cache=True,
        **settings.generate_kwargs(),
    )
    completions = []
    for row in out[:, longest:].tolist():
        ended = next((k for k, t in enumerate(row) if t in eos), None)
        new = row if ended is None else row[:ended]
        text, stopped = _cut(tokenizer.decode(new, skip_special_tokens=True), settings.stop)
        reason = "stop" if ended is not None or stopped else "length"
        completions.append(Completion(text, len(new), reason))
    return completions


def stream(
    model: Any, tokenizer: Any, prompt: Sequence[int], settings: DecodeSettings
) -> Iterator[str]:
    """The completion of one prompt, piece by piece as the model produces it."""
    from transformers import TextIteratorStreamer

    if settings.seed is not None:
        torch.manual_seed(settings.seed)
    device = next(model.parameters()).device
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    ids = torch.tensor([list(prompt)], dtype=torch.long, device=device)
    kwargs = dict(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        pad_token_id=int(tokenizer.pad_token_id),
        eos_token_id=_stop_ids(tokenizer, model),
        streamer=streamer,
        use_cache=True,
        **settings.generate_kwargs(),
    )

    # Autocast is per thread: the generating thread takes the caller's (ltx predict and
    # ltx serve compute in bf16 under autocast), or it would run the model in fp32.
    kind = device.type
    autocast = torch.is_autocast_enabled(kind)
    dtype = torch.get_autocast_dtype(kind)

    def run() -> None:
        with torch.inference_mode(), torch.autocast(kind, dtype=dtype, enabled=autocast):
            model.generate(**kwargs)

    thread = Thread(target=run, daemon=True)
    thread.start()
    emitted = ""
    for piece in streamer:
        text, stopped = _cut(emitted + piece, settings.stop)
        if text[len(emitted) :]:
            yield text[len(emitted) :]
        emitted = text
        if stopped:
            break
    thread.join()
