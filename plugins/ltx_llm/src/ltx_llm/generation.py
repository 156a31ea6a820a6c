"""Batched generation from chat prompts: left padding, the KV cache, stop strings.

One ``model.generate`` call per batch of prompts (left-padded so every prompt ends where
generation starts), with the model's KV cache; greedy unless a temperature above 0 is
given. Generation stops at the end-of-turn token, at ``max_new_tokens``, or at a stop
string (cut from the text). ``generate(..., on_piece=...)`` streams each answer of a
batch as it comes; :func:`stream` yields the text of one prompt as it comes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

__all__ = ["Completion", "DecodeSettings", "PieceHandler", "generate", "stream"]


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


def _held_back(text: str, stops: Sequence[str]) -> int:
    """How many characters at the end of ``text`` could begin a stop string: they are
    not streamed until the next tokens tell whether the stop string follows."""
    return max(
        (n for stop in stops for n in range(1, len(stop)) if text.endswith(stop[:n])), default=0
    )


#: ``on_piece(row, text)``: new text of one row of a batch, as it is generated.
PieceHandler = Callable[[int, str], None]


class _Rows(StoppingCriteria):
    """Follows each row of a batched ``generate`` token by token (a stopping criterion
    sees every new token of every row): decodes the row's answer so far, hands new text
    to ``on_piece``, and ends the row at its end-of-turn token, at a stop string, or
    when ``stopped(row)`` says nobody reads it any more. The other rows go on.

    Text that could be the start of a stop string, or the first bytes of a character
    whose last bytes are still to come, is held back until the next token settles it.
    """

    def __init__(
        self,
        tokenizer: Any,
        rows: int,
        eos: Sequence[int],
        stops: Sequence[str],
        on_piece: PieceHandler | None,
        stopped: Callable[[int], bool] | None,
    ) -> None:
        self.tokenizer = tokenizer
        self.eos = set(eos)
        self.stops = tuple(s for s in stops if s)
        self.on_piece = on_piece
        self.stopped = stopped
        self.tokens: list[list[int]] = [[] for _ in range(rows)]
        self.text = [""] * rows  # each row's answer so far, stop strings cut
        self.sent = [0] * rows  # how much of it went to on_piece
        self.done = [False] * rows
        self.reason = ["length"] * rows

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        for row, token in enumerate(input_ids[:, -1].tolist()):
            if self.done[row]:
                continue
            if token in self.eos:
                self._end(row, "stop")
                continue
            if self.stopped is not None and self.stopped(row):
                self._end(row, "stop", send=False)
                continue
            self.tokens[row].append(token)
            decoded = self.tokenizer.decode(self.tokens[row], skip_special_tokens=True)
            text, hit = _cut(decoded, self.stops)
            self.text[row] = text
            if hit:
                self._end(row, "stop")
            elif not decoded.endswith("\ufffd"):  # a character still incomplete
                self._send(row, len(text) - _held_back(text, self.stops))
        return torch.tensor(self.done, device=input_ids.device)

    def _send(self, row: int, upto: int) -> None:
        if self.on_piece is not None and upto > self.sent[row]:
            self.on_piece(row, self.text[row][self.sent[row] : upto])
            self.sent[row] = upto

    def _end(self, row: int, reason: str, *, send: bool = True) -> None:
        self.done[row] = True
        self.reason[row] = reason
        if send:
            self._send(row, len(self.text[row]))

    def finish(self) -> list[Completion]:
        """Every row's completion, the text held back sent (rows cut by the length)."""
        for row, done in enumerate(self.done):
            if not done:
                self._send(row, len(self.text[row]))
        return [
            Completion(self.text[row], len(self.tokens[row]), self.reason[row])
            for row in range(len(self.done))
        ]


@torch.inference_mode()
def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Sequence[int]],
    settings: DecodeSettings,
    *,
    on_piece: PieceHandler | None = None,
    stopped: Callable[[int], bool] | None = None,
) -> list[Completion]:
    """Complete every prompt (token ids) in one batched ``generate`` call.

    With ``on_piece``, each prompt's answer is streamed as it comes: ``on_piece(i,
    text)`` is called with the new text of prompt ``i``, in the calling thread, between
    the model's steps; ``stopped(i)`` ends prompt ``i`` early (its reader has left). A
    row that has ended, at its end-of-turn token or a stop string, stops there while the
    others go on.
    """
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
    # Token by token only where it is needed: streaming, or stop strings (a row that
    # reaches one stops generating). Otherwise the answers are read once, at the end.
    rows = None
    extra: dict[str, Any] = {}
    if on_piece is not None or stopped is not None or settings.stop:
        rows = _Rows(tokenizer, len(prompts), eos, settings.stop, on_piece, stopped)
        extra["stopping_criteria"] = StoppingCriteriaList([rows])
    out = model.generate(
        input_ids=ids.to(device),
        attention_mask=mask.to(device),
        pad_token_id=pad,
        eos_token_id=eos,
        use_cache=True,
        **settings.generate_kwargs(),
        **extra,
    )
    if rows is not None:
        return rows.finish()
    completions = []
    for row in out[:, longest:].tolist():
        ended = next((k for k, t in enumerate(row) if t in eos), None)
        new = row if ended is None else row[:ended]
        text = tokenizer.decode(new, skip_special_tokens=True)
        completions.append(Completion(text, len(new), "length" if ended is None else "stop"))
    return completions


_END = object()


def stream(
    model: Any, tokenizer: Any, prompt: Sequence[int], settings: DecodeSettings
) -> Iterator[str]:
    """The completion of one prompt, piece by piece as the model produces it.

    The model runs in a thread of its own (under the caller's autocast: autocast is per
    thread, and ``ltx predict`` and ``ltx serve`` compute in bf16 under it). Closing the
    iterator early ends the generation at the next token.
    """
    pieces: queue.Queue[Any] = queue.Queue()
    left = threading.Event()
    kind = next(model.parameters()).device.type
    autocast = torch.is_autocast_enabled(kind)
    dtype = torch.get_autocast_dtype(kind)

    def run() -> None:
        try:
            with torch.autocast(kind, dtype=dtype, enabled=autocast):
                generate(
                    model,
                    tokenizer,
                    [prompt],
                    settings,
                    on_piece=lambda _, text: pieces.put(text),
                    stopped=lambda _: left.is_set(),
                )
        except BaseException as exc:  # raised where the pieces are read
            pieces.put(exc)
        finally:
            pieces.put(_END)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        while (piece := pieces.get()) is not _END:
            if isinstance(piece, BaseException):
                raise piece
            yield piece
    finally:
        left.set()
        thread.join()
