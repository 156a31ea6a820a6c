"""Batched generation from chat prompts: left padding, the KV cache, stop strings.

One ``model.generate`` call per batch of prompts (left-padded so every prompt ends where
generation starts), with the model's KV cache; greedy unless a temperature above 0 is
given. Generation stops at the end-of-turn token, at ``max_new_tokens``, or at a stop
string (cut from the text). ``generate(..., on_piece=...)`` streams each answer of a
batch as it comes, and ``generate(..., more=...)`` lets prompts that arrive meanwhile
join the running batch between two tokens; :func:`stream` yields the text of one prompt
as it comes. ``generate(..., reuse_prefix=True)`` (inference only: the weights must not
change between calls) keeps the KV cache of the start its prompts share, a chat
template's system prompt, and reads only the rest of each prompt.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

from ltx_llm.loss import forward_params

__all__ = ["Completion", "DecodeSettings", "MorePrompts", "PieceHandler", "generate", "stream"]


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

    def sampling(self) -> tuple[Any, ...]:
        """What the rows of one batch must share: how the next token is chosen (each
        row has its own token limit and stop strings)."""
        kwargs = self.generate_kwargs()
        return (self.seed, *sorted((k, v) for k, v in kwargs.items() if k != "max_new_tokens"))


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

#: ``more(room)``: at most ``room`` new prompts (token ids), each with its settings, to
#: join a running batch; or none. Their rows are numbered after the rows already given,
#: in the order they came.
MorePrompts = Callable[[int], Sequence[tuple[Sequence[int], DecodeSettings]]]


@dataclass
class _Row:
    """One answer being generated: its prompt, its limits, its tokens and text so far."""

    prompt: list[int]
    limit: int  # max_new_tokens
    stops: tuple[str, ...]
    tokens: list[int] = field(default_factory=list)
    text: str = ""  # the answer so far, stop strings cut
    sent: int = 0  # how much of it went to on_piece
    done: bool = False
    reason: str = "length"

    @classmethod
    def of(cls, prompt: Sequence[int], settings: DecodeSettings) -> _Row:
        return cls(list(prompt), settings.max_new_tokens, tuple(s for s in settings.stop if s))


class _Rows(StoppingCriteria):
    """Follows each row of a batched ``generate`` token by token (a stopping criterion
    sees every new token of every row): decodes the row's answer so far, hands new text
    to ``on_piece``, and ends the row at its end-of-turn token, at its token limit, at
    one of its stop strings, or when ``stopped(row)`` says nobody reads it any more. The
    other rows go on.

    Text that could be the start of a stop string, or the first bytes of a character
    whose last bytes are still to come, is held back until the next token settles it.

    With ``more``, new prompts join between two tokens: the running ``generate`` call
    ends (every row reported done to it), and :func:`generate` continues the unfinished
    rows and the new ones (:attr:`joined`) in the next.
    """

    def __init__(
        self,
        tokenizer: Any,
        eos: Sequence[int],
        on_piece: PieceHandler | None,
        stopped: Callable[[int], bool] | None,
        more: MorePrompts | None = None,
        room: int = 0,
    ) -> None:
        self.tokenizer = tokenizer
        self.eos = set(eos)
        self.on_piece = on_piece
        self.stopped = stopped
        self.more = more
        self.room = room
        self.rows: list[_Row] = []
        #: The rows of the running ``generate`` call, in its batch order.
        self.running: list[int] = []
        #: New rows taken from ``more`` during the running call.
        self.joined: list[_Row] = []

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        for row, token in zip(self.running, input_ids[:, -1].tolist(), strict=True):
            self._step(row, token)
        done = [self.rows[row].done for row in self.running]
        if self.more is not None and not all(done):
            room = self.room - sum(not d for d in done)
            joined = [_Row.of(p, s) for p, s in self.more(room)] if room > 0 else []
            if joined:  # end this call; the next one runs the old rows and the new
                self.joined = joined
                return torch.ones(len(done), dtype=torch.bool, device=input_ids.device)
        return torch.tensor(done, device=input_ids.device)

    def _step(self, row: int, token: int) -> None:
        r = self.rows[row]
        if r.done:
            return
        if token in self.eos:
            self._end(row, "stop")
            return
        if self.stopped is not None and self.stopped(row):
            self._end(row, "stop", send=False)
            return
        r.tokens.append(token)
        decoded = self.tokenizer.decode(r.tokens, skip_special_tokens=True)
        r.text, hit = _cut(decoded, r.stops)
        if hit:
            self._end(row, "stop")
        elif len(r.tokens) >= r.limit:
            self._end(row, "length")
        elif not decoded.endswith("\ufffd"):  # a character still incomplete
            self._send(row, len(r.text) - _held_back(r.text, r.stops))

    def _send(self, row: int, upto: int) -> None:
        r = self.rows[row]
        if self.on_piece is not None and upto > r.sent:
            self.on_piece(row, r.text[r.sent : upto])
            r.sent = upto

    def _end(self, row: int, reason: str, *, send: bool = True) -> None:
        r = self.rows[row]
        r.done = True
        r.reason = reason
        if send:
            self._send(row, len(r.text))

    def finish(self) -> list[Completion]:
        """Every row's completion, the text held back sent (rows cut by the length)."""
        for row, r in enumerate(self.rows):
            if not r.done:
                self._end(row, "length")
        return [Completion(r.text, len(r.tokens), r.reason) for r in self.rows]


def _left_padded(prompts: Sequence[Sequence[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    longest = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), longest), pad, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, p in enumerate(prompts):
        ids[i, longest - len(p) :] = torch.tensor(list(p), dtype=torch.long)
        mask[i, longest - len(p) :] = 1
    return ids, mask


def _read_at_end(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Sequence[int]],
    pad: int,
    eos: list[int],
    kwargs: dict[str, Any],
    prefix: _Prefix | None = None,
) -> list[Completion]:
    """One ``generate`` call, its answers read once it is over."""
    device = next(model.parameters()).device
    model_cache: dict[str, Any] = {}
    name = _cache_argument(model)
    if prefix is not None and name is not None:
        ids, mask, model_cache[name] = _read_but_last(model, prompts, pad, device, prefix)
    else:
        ids, mask = (t.to(device) for t in _left_padded(prompts, pad))
    out = model.generate(
        input_ids=ids,
        attention_mask=mask,
        pad_token_id=pad,
        eos_token_id=eos,
        use_cache=True,
        **model_cache,
        **kwargs,
    )
    completions = []
    for row in out[:, ids.shape[1] :].tolist():
        ended = next((k for k, t in enumerate(row) if t in eos), None)
        answer = row if ended is None else row[:ended]
        text = tokenizer.decode(answer, skip_special_tokens=True)
        completions.append(Completion(text, len(answer), "length" if ended is None else "stop"))
    return completions


@torch.inference_mode()
def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Sequence[int]],
    settings: DecodeSettings | Sequence[DecodeSettings],
    *,
    on_piece: PieceHandler | None = None,
    stopped: Callable[[int], bool] | None = None,
    more: MorePrompts | None = None,
    max_rows: int | None = None,
    reuse_prefix: bool = False,
) -> list[Completion]:
    """Complete every prompt (token ids) in one batched ``generate`` call (two or more
    when prompts join it).

    ``settings`` are every prompt's, or one per prompt: then their token limits and stop
    strings may differ, how the next token is chosen (:meth:`DecodeSettings.sampling`)
    may not.

    With ``on_piece``, each prompt's answer is streamed as it comes: ``on_piece(i,
    text)`` is called with the new text of prompt ``i``, in the calling thread, between
    the model's steps; ``stopped(i)`` ends prompt ``i`` early (its reader has left). A
    row that has ended, at its end-of-turn token or a stop string, stops there while the
    others go on.

    With ``more``, prompts that arrive while the batch runs join it between two tokens,
    up to ``max_rows`` rows at once (default: the rows given), so a late prompt's first
    token does not wait for the batch to finish. The new prompts are read into a KV
    cache of their own, which joins the running rows' cache, and one ``generate`` call
    continues them all; where the model's cache is not one of plain full-attention
    layers, that call reads the running rows' prompt and answer so far again instead.
    The completions of joined prompts follow the given ones, in the order they came.

    With ``reuse_prefix``, the start that the prompts share with each other or with the
    model's earlier prompts (at least :data:`PREFIX_MIN` tokens: a chat template's system
    prompt and turn markers) is read once and its KV cache kept with the model; later
    prompts that start with it read only their rest. Only where the model's weights do
    not change between calls (``ltx predict``, ``ltx serve``), and where its cache is
    one of plain full-attention layers.
    """
    each = [settings] * len(prompts) if isinstance(settings, DecodeSettings) else list(settings)
    if len(each) != len(prompts):
        raise ValueError(f"{len(each)} settings for {len(prompts)} prompts")
    first = each[0]

    def sampled_alike(settings: Sequence[DecodeSettings], what: str) -> None:
        if any(s.sampling() != first.sampling() for s in settings):
            raise ValueError(f"{what} must be sampled alike")

    sampled_alike(each, "the prompts of one batch")
    if first.seed is not None:
        torch.manual_seed(first.seed)
    device = next(model.parameters()).device
    pad = int(tokenizer.pad_token_id)
    eos = _stop_ids(tokenizer, model)
    kwargs = first.generate_kwargs()
    # Token by token only where it is needed: streaming, stop strings (a row that reaches
    # one stops generating), rows with their own limits, or prompts joining. Otherwise
    # the answers are read once, at the end.
    alike = all(s == first for s in each)
    cache_name = _cache_argument(model)

    def prefix_of(group: Sequence[Sequence[int]]) -> _Prefix | None:
        return _prefix_for(model, group) if reuse_prefix and cache_name else None

    if on_piece is None and stopped is None and more is None and alike and not first.stop:
        return _read_at_end(model, tokenizer, prompts, pad, eos, kwargs, prefix_of(prompts))

    def joining(room: int) -> Sequence[tuple[Sequence[int], DecodeSettings]]:
        came = more(room) if more is not None else ()
        sampled_alike([s for _, s in came], "a prompt joining a batch and its rows")
        return came

    rows = _Rows(
        tokenizer,
        eos,
        on_piece,
        stopped,
        joining if more is not None else None,
        max_rows or len(prompts),
    )
    rows.joined = [_Row.of(p, s) for p, s in zip(prompts, each, strict=True)]
    # The last call's sequences, their attention mask and the model's cache of them.
    ids: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    cache: Any = None
    while rows.joined:
        new, rows.joined = rows.joined, []
        old = [k for k, i in enumerate(rows.running) if not rows.rows[i].done]
        first_new = len(rows.rows)
        rows.rows += new
        rows.running = [rows.running[k] for k in old] + list(range(first_new, len(rows.rows)))
        if not rows.running:
            break
        joined = None
        prefix = prefix_of([r.prompt for r in new])
        if ids is not None and mask is not None and old and cache_name and _mergeable(cache):
            joined = _join_cached(
                model, ids[old], mask[old], _rows_of(cache, old), new, pad, prefix
            )
        elif ids is None and prefix is not None:  # the first call: its prompts' rest only
            joined = _read_but_last(model, [r.prompt for r in new], pad, device, prefix)
        model_cache: dict[str, Any] = {}
        if joined is not None and cache_name:  # the running rows keep their cache
            ids, mask, cache = joined
            model_cache[cache_name] = cache
        else:  # the first call, or the running rows read again with the new ones
            running = [rows.rows[i] for i in rows.running]
            ids, mask = (
                t.to(device) for t in _left_padded([r.prompt + r.tokens for r in running], pad)
            )
        left = max(rows.rows[i].limit - len(rows.rows[i].tokens) for i in rows.running)
        out = model.generate(
            input_ids=ids,
            attention_mask=mask,
            pad_token_id=pad,
            eos_token_id=eos,
            use_cache=True,
            stopping_criteria=StoppingCriteriaList([rows]),
            return_dict_in_generate=True,
            **model_cache,
            **(kwargs | {"max_new_tokens": left}),
        )
        grown = out["sequences"].shape[1] - ids.shape[1]
        mask = torch.cat([mask, mask.new_ones(mask.shape[0], grown)], dim=1)
        ids = out["sequences"]
        cache = _cache_of(out)
    return rows.finish()


# -- continuing a batch with its KV cache --------------------------------------------
# A running batch's cache holds every token of its rows but the last one generated (it
# is read at the next step). New rows get a cache of their prompt but its last token;
# the two, left-padded to one length, continue in one ``generate`` call whose first
# step reads one token per row. Only for caches of plain full-attention layers
# (``DynamicCache`` of ``DynamicLayer``); any other cache, or a transformers without
# them, reads the running rows again instead.


def _cache_argument(model: Any) -> str | None:
    """The name under which the model's ``forward`` takes a cache (transformers 5:
    ``cache``; before, ``past_key_values``)."""
    try:
        params = forward_params(model)
    except (TypeError, ValueError):
        return None
    return next((n for n in ("cache", "past_key_values") if n in params), None)


def _cache_of(output: Any) -> Any:
    """The cache a model's output holds (asked by its old name only where it has no
    other: transformers 5 warns about the old one)."""
    return output["cache"] if "cache" in output else output.get("past_key_values")


def _mergeable(cache: Any) -> bool:
    try:
        from transformers.cache_utils import DynamicCache, DynamicLayer
    except ImportError:
        return False
    layers = list(getattr(cache, "layers", None) or [])
    return (
        type(cache) is DynamicCache
        and bool(layers)
        and all(type(layer) is DynamicLayer and layer.keys is not None for layer in layers)
    )


def _rows_of(cache: Any, rows: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    index = torch.tensor(rows, device=cache.layers[0].keys.device)
    return [(layer.keys[index], layer.values[index]) for layer in cache.layers]


def _pad_left(t: torch.Tensor, length: int, value: float, dim: int) -> torch.Tensor:
    missing = length - t.shape[dim]
    if missing <= 0:
        return t
    shape = list(t.shape)
    shape[dim] = missing
    return torch.cat([t.new_full(shape, value), t], dim=dim)


def _join_cached(
    model: Any,
    ids: torch.Tensor,
    mask: torch.Tensor,
    kv: list[tuple[torch.Tensor, torch.Tensor]],
    new: Sequence[_Row],
    pad: int,
    prefix: _Prefix | None = None,
) -> tuple[torch.Tensor, torch.Tensor, Any] | None:
    """The running rows (their sequences, mask and cache) and the new rows' prompts as
    one batch with one cache, or ``None`` where the new rows' cache is not mergeable.
    With a ``prefix`` the new prompts start with, only their rest is read."""
    from transformers.cache_utils import DynamicCache

    if min(len(r.prompt) for r in new) < 2:  # nothing of a prompt to cache
        return None
    new_ids, new_mask, new_cache = _read_but_last(
        model, [r.prompt for r in new], pad, ids.device, prefix
    )
    if not _mergeable(new_cache) or len(new_cache.layers) != len(kv):
        return None
    length = max(ids.shape[1], new_ids.shape[1])
    merged = DynamicCache(
        ddp_cache_data=[
            (
                torch.cat(
                    [_pad_left(k, length - 1, 0.0, 2), _pad_left(layer.keys, length - 1, 0.0, 2)]
                ),
                torch.cat(
                    [_pad_left(v, length - 1, 0.0, 2), _pad_left(layer.values, length - 1, 0.0, 2)]
                ),
            )
            for (k, v), layer in zip(kv, new_cache.layers, strict=True)
        ]
    )
    return (
        torch.cat([_pad_left(ids, length, pad, 1), _pad_left(new_ids, length, pad, 1)]),
        torch.cat([_pad_left(mask, length, 0, 1), _pad_left(new_mask, length, 0, 1)]),
        merged,
    )


# -- the shared start of prompts ------------------------------------------------------
# A chat template puts the same tokens before every conversation (SmolLM2's: its system
# prompt and the first turn's marker, 26 of the benchmark's 43-63 prompt tokens). Read
# once, their keys and values serve every later prompt that starts with them: the rest
# is read with that cache before it (positions after it; between the two, each row's
# left padding, masked), which is what reading the whole prompt computes.

#: The shortest shared start worth a cache of its own, in tokens.
PREFIX_MIN = 16


@dataclass
class _Prefix:
    ids: tuple[int, ...]
    #: What the cache was computed under: the weights (device, dtype, versions) and
    #: autocast.
    state: tuple[Any, ...]
    kv: list[tuple[torch.Tensor, torch.Tensor]]


#: Each model's kept prefix, and the last prompt it read (to find a start shared with
#: the next call's prompts). Per model object: the CPU's model threads in ``ltx serve``
#: each have their own module around the shared weights.
_PREFIXES: weakref.WeakKeyDictionary[Any, _Prefix] = weakref.WeakKeyDictionary()
_LAST: weakref.WeakKeyDictionary[Any, tuple[int, ...]] = weakref.WeakKeyDictionary()


def _state(model: Any) -> tuple[Any, ...]:
    params = list(model.parameters())
    weight = params[0]
    on = torch.is_autocast_enabled(weight.device.type)
    dtype = torch.get_autocast_dtype(weight.device.type) if on else None
    # Weights changed in place (load_state_dict, most optimizers' steps) count up their
    # versions, and a cache of the weights before is read again. Not every change shows
    # (a fused AdamW step does not count; LoRA adapters turned off change no weight):
    # hence inference only.
    versions = (weight._version, params[-1]._version)
    return (weight.device, weight.dtype, on, dtype, versions)


def _shared_start(prompts: Sequence[Sequence[int]]) -> int:
    n = min(len(p) for p in prompts)
    for k in range(n):
        token = prompts[0][k]
        if any(p[k] != token for p in prompts[1:]):
            return k
    return n


def _prefix_for(model: Any, prompts: Sequence[Sequence[int]]) -> _Prefix | None:
    """The kept start of ``prompts`` (read now where they share a new one with each
    other, or a single prompt with the model's last one), or ``None``. Each prompt keeps
    at least two tokens of its own: its rest is read after the prefix, its last token by
    ``generate``."""
    state = _state(model)
    kept = _PREFIXES.get(model)
    last = _LAST.get(model)
    _LAST[model] = tuple(prompts[0])
    if kept is not None and kept.state == state:
        n = len(kept.ids)
        if all(len(p) >= n + 2 and tuple(p[:n]) == kept.ids for p in prompts):
            return kept
    # Several prompts: the start they share; one: the start it shares with the last.
    group = list(prompts) if len(prompts) > 1 or last is None else [prompts[0], last]
    if len(group) < 2:
        return None
    n = min(_shared_start(group), min(len(p) for p in prompts) - 2)
    if n < PREFIX_MIN:
        return None
    ids = tuple(prompts[0][:n])
    out = model(
        input_ids=torch.tensor([ids], device=state[0]),
        use_cache=True,
        **({"logits_to_keep": 1} if "logits_to_keep" in forward_params(model) else {}),
    )
    cache = _cache_of(out)
    if not _mergeable(cache):
        return None
    kept = _Prefix(ids, state, [(layer.keys, layer.values) for layer in cache.layers])
    _PREFIXES[model] = kept
    return kept


def _read_but_last(
    model: Any,
    prompts: Sequence[Sequence[int]],
    pad: int,
    device: torch.device,
    prefix: _Prefix | None = None,
) -> tuple[torch.Tensor, torch.Tensor, Any]:
    """``prompts`` (at least two tokens each) read but their last token, as a running
    batch has them: their sequences (left-padded), mask and the model's cache of all but
    the last column. With a ``prefix`` they all start with, only their rest is read,
    after its kept cache (between the two, each row's padding, masked)."""
    from transformers.cache_utils import DynamicCache

    n, rows = (len(prefix.ids) if prefix is not None else 0), len(prompts)
    rest, rest_mask = (t.to(device) for t in _left_padded([p[n:-1] for p in prompts], pad))
    mask = torch.cat([rest_mask.new_ones(rows, n), rest_mask], dim=1)
    positions = n + (rest_mask.cumsum(-1) - 1).clamp(min=0)
    given: dict[str, Any] = {}
    if "logits_to_keep" in forward_params(model):
        given["logits_to_keep"] = 1
    ids = [rest, torch.tensor([[p[-1]] for p in prompts], device=device)]
    if prefix is not None:
        name = _cache_argument(model)
        if name is None:
            raise ValueError("a kept prefix needs a model that takes a cache")
        given[name] = DynamicCache(
            ddp_cache_data=[
                (k.expand(rows, -1, -1, -1), v.expand(rows, -1, -1, -1)) for k, v in prefix.kv
            ]
        )
        ids.insert(0, torch.tensor([prefix.ids], device=device).expand(rows, -1))
    read = model(
        input_ids=rest, attention_mask=mask, position_ids=positions, use_cache=True, **given
    )
    return (
        torch.cat(ids, dim=1),
        torch.cat([mask, mask.new_ones(rows, 1)], dim=1),
        _cache_of(read),
    )


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
