"""What ``ltx data preview`` shows of a split: a few examples as the model will see them
and the split's statistics (:class:`DataPreview`), the generic default every task gets
(:func:`default_preview`), and the plain-text rendering (:func:`render_text`).

A task overrides :meth:`ltx_core.task.LtxTask.preview` to show more (a chat task marks
the tokens its loss covers and its packing layout); the default reads the items of
``datamodule.splits[split]`` as most datasets produce them:

- a mapping in Hugging Face's convention: ``input_ids`` (one sequence, or one per choice)
  with ``attention_mask``; ``labels`` or ``label`` as a class id, a score, a multi-hot
  list, one tag per token (``-100``: not scored) or a target sequence; QA's
  ``start_positions`` / ``end_positions``;
- a tuple ``(input, label)``, the input a sequence of token ids or any other array (an
  image), described by its shape.

Token ids are decoded with the data module's tokenizer; class ids are named from the
hand-off's ``label_names`` (or ``class_names``, ``id2label``). Duck-typed over lists,
NumPy arrays and tensors, so this module imports neither torch nor NumPy.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ltx_core.errors import LtxError
from ltx_core.handoff import HandOff

__all__ = ["SCAN_LIMIT", "DataPreview", "default_preview", "render_text"]

#: At most this many examples of a split are read for its statistics, evenly spaced:
#: a preview of a million-example split answers in seconds, and says it sampled.
SCAN_LIMIT = 10_000
#: Hugging Face's "no loss here" label.
IGNORE = -100
_BINS = 8


@dataclass
class DataPreview:
    """What a task shows of a split: examples as the model sees them, and statistics.

    Attributes:
        examples: One JSON-able dict per example shown. Every one has ``text`` (the input
            as one string) and ``tokens`` (the input's tokens as strings; empty for
            inputs that are not tokens); a chat task adds ``trained`` (one boolean per
            token: whether the loss covers it). The default adds ``index``, ``length``
            and what the labels are (``label``, ``token_labels``, ``target``, ...).
        stats: JSON-able statistics of the split: ``examples``, ``scanned``,
            ``length`` (min/mean/p50/p90/max tokens), ``max_length``, ``at_max_length``,
            ``truncation_rate``, ``labels`` (name -> count), and others a task adds.
        notes: Lines shown after the statistics (e.g. a packing layout).
    """

    examples: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """``{"examples": [...], "stats": {...}, "notes": [...]}``."""
        return {"examples": self.examples, "stats": self.stats, "notes": self.notes}


# -- reading items ---------------------------------------------------------------------


def _ndim(x: Any) -> int | None:
    ndim = getattr(x, "ndim", None)
    return int(ndim) if isinstance(ndim, int) else None


def _is_int_dtype(x: Any) -> bool:
    # torch.int64, int32, uint8 (NumPy and torch spell them alike); bool is not a token id.
    dtype = str(getattr(x, "dtype", ""))
    return "int" in dtype and "bool" not in dtype


def _scalar(x: Any) -> Any:
    """A Python scalar from a scalar, a 0-d array or a one-element tensor, else ``x``."""
    if _ndim(x) == 0 and hasattr(x, "item"):
        return x.item()
    return x


def _as_list(x: Any) -> list[Any] | None:
    """A list from a list, tuple, 1-d or 2-d array; ``None`` for anything else."""
    if isinstance(x, (list, tuple)):
        return list(x)
    if _ndim(x) in (1, 2) and hasattr(x, "tolist"):
        out = x.tolist()
        return out if isinstance(out, list) else None
    return None


def _is_ids(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def _token_ids(x: Any) -> list[list[int]] | None:
    """One sequence of ids (a list of one) or one per choice; ``None`` if ``x`` is not ids."""
    if x is None or (_ndim(x) is not None and not _is_int_dtype(x)):
        return None
    values = _as_list(x)
    if not values:
        return None
    if _is_ids(values):
        return [values]
    if all(isinstance(v, list) and _is_ids(v) for v in values):
        return values
    return None


@dataclass
class _Item:
    """One example, its parts named: what both an example shown and the stats read."""

    ids: list[list[int]] = field(default_factory=list)  # padding dropped
    raw: list[list[int]] = field(default_factory=list)  # as stored, for positions
    keep: list[list[bool]] = field(default_factory=list)  # not padding, per position of raw
    shape: list[int] | None = None  # an input that is not tokens
    dtype: str = ""
    label: Any = None
    token_labels: list[int] | None = None  # aligned with ids[0]
    target: list[int] | None = None
    trained: list[bool] | None = None  # aligned with ids[0]: the loss covers the token
    span: tuple[int, int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _parse(item: Any, names: list[str]) -> _Item:
    out = _Item()
    inputs: Any = None
    mask: Any = None
    label: Any = None
    marks: Any = None
    if isinstance(item, Mapping):
        rest = dict(item)
        inputs = rest.pop("input_ids", None)
        mask = rest.pop("attention_mask", None)
        rest.pop("token_type_ids", None)  # which segment: shown by the decoded [SEP]s
        label = rest.pop("labels", None)
        if label is None:
            label = rest.pop("label", None)
        marks = rest.pop("trained", None)
        start, end = rest.pop("start_positions", None), rest.pop("end_positions", None)
        if start is not None and end is not None:
            out.span = (int(_scalar(start)), int(_scalar(end)))
        if inputs is None:  # e.g. pixel_values: the first array stands for the input
            key = next((k for k, v in rest.items() if _ndim(v)), None)
            inputs = rest.pop(key) if key is not None else None
        out.extra = rest
    elif isinstance(item, tuple) and item:
        inputs = item[0]
        label = item[1] if len(item) > 1 else None
    else:
        inputs = item

    ids = _token_ids(inputs)
    if ids is not None:
        masks = _token_ids(mask)
        if masks is None or [len(m) for m in masks] != [len(s) for s in ids]:
            masks = [[1] * len(s) for s in ids]
        out.raw = ids
        out.keep = [[bool(m) for m in ms] for ms in masks]
        out.ids = [
            [t for t, k in zip(s, ks, strict=True) if k]
            for s, ks in zip(ids, out.keep, strict=True)
        ]
    elif inputs is not None:
        shape = getattr(inputs, "shape", None)
        out.shape = [int(n) for n in shape] if shape is not None else None
        out.dtype = str(getattr(inputs, "dtype", type(inputs).__name__)).removeprefix("torch.")

    label = _scalar(label)
    values = _as_list(label)
    aligned = len(out.raw) == 1 and values is not None and len(values) == len(out.raw[0])
    if values is not None and len(values) == 1 and not aligned:
        # A class id kept as a one-element array (``tensor([3])``), not a 1-token target.
        label, values = values[0], None
    if values is None:
        out.label = label
    elif names and len(values) == len(names) and all(isinstance(v, float) for v in values):
        out.label = values  # multi-hot
    elif names and aligned and _is_ids(values):
        out.token_labels = [v for v, k in zip(values, out.keep[0], strict=True) if k]
    elif (
        aligned
        and _is_ids(values)
        and all(v in (IGNORE, t) for v, t in zip(values, out.raw[0], strict=True))
    ):
        # Causal language-model labels: the input itself where the loss is taken.
        kept = [v for v, k in zip(values, out.keep[0], strict=True) if k]
        out.trained = [v != IGNORE for v in kept]
        out.target = [v for v in kept if v != IGNORE]
    elif _is_ids(values):
        out.target = [v for v in values if v != IGNORE]
    else:
        out.label = values
    flags = _as_list(marks)
    if flags is not None and len(out.raw) == 1 and len(flags) == len(out.raw[0]):
        # A dataset that says which tokens are trained is taken at its word.
        out.trained = [bool(f) for f, k in zip(flags, out.keep[0], strict=True) if k]
    return out


def _label_names(handoff: Mapping[str, Any]) -> list[str]:
    for key in ("label_names", "class_names"):
        names = handoff.get(key)
        if isinstance(names, list) and names:
            return [str(n) for n in names]
    id2label = handoff.get("id2label")
    if isinstance(id2label, Mapping) and id2label:
        try:
            return [str(id2label[k]) for k in sorted(id2label, key=int)]
        except (TypeError, ValueError):
            return []
    return []


def _limit(key: str, config: Any, handoff: Mapping[str, Any]) -> int | None:
    """A configured maximum: the hand-off's (what the data was cut to) before the config's."""
    for value in (handoff.get(key), getattr(config, key, None)):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


# -- examples ---------------------------------------------------------------------------


class _Decoder:
    """Token ids to text and token strings with the run's tokenizer (or the ids themselves)."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def tokens(self, ids: list[int]) -> list[str]:
        tok = self.tokenizer
        if tok is not None:
            try:
                if hasattr(tok, "convert_ids_to_tokens"):
                    got = tok.convert_ids_to_tokens(ids)
                    return [
                        str(t) if t is not None else str(i) for t, i in zip(got, ids, strict=False)
                    ]
                if hasattr(tok, "decode"):
                    return [str(tok.decode([i])) for i in ids]
            except Exception:  # an id the tokenizer cannot read: show the ids instead
                pass
        return [str(i) for i in ids]

    def text(self, ids: list[int]) -> str:
        tok = self.tokenizer
        if tok is not None and hasattr(tok, "decode"):
            try:
                # Special tokens kept: the model sees them.
                return str(tok.decode(ids))
            except Exception:  # as in tokens(): the ids rather than no preview
                pass
        return " ".join(self.tokens(ids))


def _jsonable(value: Any) -> Any:
    value = _scalar(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    listed = _as_list(value)
    if listed is not None and len(listed) <= 64:
        return listed
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"<{'×'.join(str(int(n)) for n in shape)}>"
    return str(value)


def _name(label: int, names: list[str]) -> str | int:
    return names[label] if 0 <= label < len(names) else label


def _example(index: int, item: _Item, names: list[str], decoder: _Decoder) -> dict[str, Any]:
    ex: dict[str, Any] = {"index": index}
    if len(item.ids) == 1:
        ex["text"] = decoder.text(item.ids[0])
        ex["tokens"] = decoder.tokens(item.ids[0])
        ex["length"] = len(item.ids[0])
    elif item.ids:  # one sequence per choice (multiple choice)
        choices = [decoder.text(s) for s in item.ids]
        ex["text"] = "\n".join(choices)
        ex["tokens"] = [t for s in item.ids for t in decoder.tokens(s)]
        ex["length"] = max(len(s) for s in item.ids)
        ex["choices"] = choices
    else:
        shape = "×".join(map(str, item.shape)) if item.shape is not None else "?"
        ex["text"] = f"<{item.dtype} of shape {shape}>"
        ex["tokens"] = []
        ex["shape"] = item.shape
    label = item.label
    if isinstance(label, bool):
        label = int(label)
    if isinstance(label, int):
        ex["label"] = _name(label, names)
        ex["label_id"] = label
    elif isinstance(label, list) and names and len(label) == len(names):
        ex["label"] = [n for n, v in zip(names, label, strict=True) if v >= 0.5]
    elif label is not None:
        ex["label"] = _jsonable(label)
    if item.token_labels is not None:
        tokens = ex["tokens"]
        ex["token_labels"] = [
            {"token": t, "label": _name(v, names)}
            for t, v in zip(tokens, item.token_labels, strict=True)
            if v != IGNORE
        ]
        # The loss covers the tokens that carry a tag (the contract chat tasks share).
        ex["trained"] = [v != IGNORE for v in item.token_labels]
    if item.trained is not None:
        ex["trained"] = item.trained
    if item.target is not None:
        ex["target"] = decoder.text(item.target)
        ex["target_tokens"] = decoder.tokens(item.target)
    if item.span is not None and len(item.raw) == 1:
        start, end = item.span
        ex["answer"] = decoder.text(item.raw[0][start : end + 1])
        ex["answer_span"] = [start, end]
    for key, value in item.extra.items():
        ex.setdefault(str(key), _jsonable(value))
    return ex


# -- statistics -------------------------------------------------------------------------


def _summary(values: list[int] | list[float]) -> dict[str, Any] | None:
    if not values:
        return None
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, math.ceil(p * len(ordered)) - 1)]

    return {
        "min": ordered[0],
        "mean": round(sum(ordered) / len(ordered), 2),
        "p50": pct(0.5),
        "p90": pct(0.9),
        "max": ordered[-1],
    }


def _histogram(values: list[int]) -> list[dict[str, int]]:
    """Up to eight equal-width bins of whole numbers, each ``{"from", "to", "count"}``."""
    if not values:
        return []
    low, high = min(values), max(values)
    width = max(1, math.ceil((high - low + 1) / _BINS))
    counts = Counter((v - low) // width for v in values)
    return [
        {"from": low + b * width, "to": min(high, low + (b + 1) * width - 1), "count": counts[b]}
        for b in range(max(counts) + 1)
    ]


def _truncation(lengths: list[int], limit: int | None) -> tuple[int | None, float | None]:
    if limit is None or not lengths:
        return None, None
    at = sum(1 for n in lengths if n >= limit)
    return at, round(at / len(lengths), 4)


def _stats(
    items: list[_Item], total: int | None, names: list[str], max_length: int | None,
    max_target: int | None,
) -> dict[str, Any]:  # fmt: skip
    lengths = [max(len(s) for s in it.ids) for it in items if it.ids]
    at, rate = _truncation(lengths, max_length)
    stats: dict[str, Any] = {
        "examples": total,
        "scanned": len(items),
        "length": _summary(lengths),
        "max_length": max_length,
        "at_max_length": at,
        "truncation_rate": rate,
        "labels": None,
    }
    if lengths:
        stats["length_histogram"] = _histogram(lengths)
    labels: Counter[str] = Counter()
    scores: list[float] = []
    for it in items:
        label = it.label
        if isinstance(label, bool):
            label = int(label)
        if isinstance(label, int):
            labels[str(_name(label, names))] += 1
        elif isinstance(label, float):
            scores.append(label)
        elif isinstance(label, list) and names and len(label) == len(names):
            labels.update(n for n, v in zip(names, label, strict=True) if v >= 0.5)
        elif it.token_labels is not None:  # the tag distribution, unscored tokens left out
            labels.update(str(_name(v, names)) for v in it.token_labels if v != IGNORE)
    if labels:
        # In the order of the label ids, then any the names do not cover.
        order = [n for n in names if n in labels] + sorted(set(labels) - set(names))
        stats["labels"] = {n: labels[n] for n in order}
    if scores:
        stats["label_values"] = _summary(scores)
    targets = [len(it.target) for it in items if it.target is not None]
    if targets:
        t_at, t_rate = _truncation(targets, max_target)
        stats.update(
            target_length=_summary(targets),
            max_target_length=max_target,
            targets_at_max_length=t_at,
            target_truncation_rate=t_rate,
        )
    trained = [t for it in items if it.trained is not None for t in it.trained]
    if trained:
        stats["trained_tokens"] = sum(trained)
        stats["trained_rate"] = round(sum(trained) / len(trained), 4)
    shapes = Counter("×".join(map(str, it.shape)) for it in items if it.shape is not None)
    if shapes:
        stats["shapes"] = dict(shapes.most_common())
    return stats


def _scan(dataset: Any, scan: int) -> tuple[int | None, Iterator[tuple[int, Any]]]:
    """The split's size (``None``: a stream) and up to ``scan`` ``(index, item)`` pairs,
    evenly spaced over the split, the first ones first."""
    try:
        total: int | None = len(dataset)
    except TypeError:  # an iterable (streaming) dataset: the first ones
        return None, enumerate(itertools.islice(iter(dataset), scan))
    assert total is not None
    n = min(total, scan)
    picks = [i * total // n for i in range(n)] if n else []
    return total, _items(dataset, picks)


def _items(dataset: Any, picks: list[int]) -> Iterator[tuple[int, Any]]:
    # ``__getitems__`` (what PyTorch's DataLoader calls; Hugging Face datasets and
    # ``Subset`` have it) reads many rows at once: five times faster than one by one.
    many = getattr(dataset, "__getitems__", None)
    for start in range(0, len(picks), 1024):
        chunk = picks[start : start + 1024]
        rows = many(chunk) if many is not None else None
        if not isinstance(rows, list) or len(rows) != len(chunk):  # not rows: one by one
            rows = [dataset[i] for i in chunk]
        yield from zip(chunk, rows, strict=True)


def default_preview(
    datamodule: Any,
    split: str,
    limit: int,
    *,
    handoff: HandOff | Mapping[str, Any] | None = None,
    scan: int = SCAN_LIMIT,
) -> DataPreview:
    """The generic preview of ``datamodule.splits[split]`` (see the module's docstring):
    its first ``limit`` examples decoded, and statistics over up to ``scan`` of them.

    Args:
        datamodule: A set-up data module (``.splits``, ``.tokenizer``, ``.config``).
        split: A key of ``datamodule.splits``.
        limit: How many examples to show (0: statistics only).
        handoff: The dataset's hand-off: label names and ``max_length`` come from it.
        scan: At most this many examples are read for the statistics.
    """
    splits = datamodule.splits
    if split not in splits:
        raise LtxError(f"The dataset has no '{split}' split; it has: {', '.join(splits)}.")
    given = handoff.as_dict() if isinstance(handoff, HandOff) else dict(handoff or {})
    names = _label_names(given)
    config = getattr(datamodule, "config", None)
    max_length = _limit("max_length", config, given)
    max_target = _limit("max_target_length", config, given)
    decoder = _Decoder(getattr(datamodule, "tokenizer", None))

    dataset = splits[split]
    total, pairs = _scan(dataset, max(scan, 1))
    # The examples shown are the split's first ones, whatever the scan's spacing.
    shown_items = [(i, dataset[i]) for i in range(min(limit, total))] if total is not None else []
    items: list[_Item] = []
    for index, raw in pairs:
        items.append(_parse(raw, names))
        if total is None and len(shown_items) < limit:
            shown_items.append((index, raw))
    examples = [_example(i, _parse(raw, names), names, decoder) for i, raw in shown_items]
    return DataPreview(examples=examples, stats=_stats(items, total, names, max_length, max_target))


# -- plain text ---------------------------------------------------------------------------

_SHOWN_TOKENS = 64
_SHOWN_CHARS = 400
_BAR = 24
_W = 19  # the width of the statistics' names
_KNOWN = {"index", "text", "tokens", "trained", "length", "label_id", "choices", "token_labels",
          "target_tokens", "answer_span"}  # fmt: skip


def _cut(text: str, limit: int = _SHOWN_CHARS) -> str:
    text = text.replace("\n", " ⏎ ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _token_line(tokens: list[str], trained: list[bool] | None = None) -> str:
    marked = [
        f"«{t}»" if trained is not None and i < len(trained) and trained[i] else t
        for i, t in enumerate(tokens[:_SHOWN_TOKENS])
    ]
    more = f" … (+{len(tokens) - _SHOWN_TOKENS})" if len(tokens) > _SHOWN_TOKENS else ""
    return " ".join(marked) + more


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return _cut(text, 200)


def _bar_rows(counts: Mapping[str, int], total: int) -> list[str]:
    width = max(len(k) for k in counts)
    top = max(counts.values()) or 1
    return [
        f"    {k.ljust(width)}  {n:>7}  {100 * n / max(total, 1):5.1f}%  "
        + "█" * max(1 if n else 0, round(_BAR * n / top))
        for k, n in counts.items()
    ]


def _render_example(ex: Mapping[str, Any]) -> list[str]:
    head = [f"#{ex.get('index', '?')}"]
    if "label" in ex:
        head.append(f"label: {_value(ex['label'])}")
    if ex.get("length") is not None:
        head.append(f"{ex['length']} tokens")
    lines = [" · ".join(head)]
    rows: list[tuple[str, str]] = [("text", _cut(str(ex.get("text", ""))))]
    tokens = [str(t) for t in ex.get("tokens") or []]
    if tokens:
        trained = ex.get("trained")
        rows.append(("tokens", _token_line(tokens, trained if isinstance(trained, list) else None)))
    pairs = ex.get("token_labels")
    if isinstance(pairs, list) and pairs and all(isinstance(p, Mapping) for p in pairs):
        rows.append(("tags", _token_line([f"{p.get('token')}/{p.get('label')}" for p in pairs])))
    elif pairs:
        rows.append(("token_labels", _value(pairs)))
    for key, value in ex.items():
        if key not in _KNOWN and key != "label":
            rows.append((key, _value(value)))
    width = max(len(k) for k, _ in rows)
    lines += [f"    {k.ljust(width)}  {v}" for k, v in rows]
    return lines


def _pct(rate: float) -> str:
    # Two decimals where one would round a real share to 0.0%.
    return f"{100 * rate:.2f}%" if 0 < rate < 0.001 else f"{100 * rate:.1f}%"


def _render_stats(stats: Mapping[str, Any]) -> list[str]:
    lines = []
    total, scanned = stats.get("examples"), stats.get("scanned")
    if total is None:
        lines.append(f"Statistics of the first {scanned} examples (a stream: its size is unknown)")
    elif scanned is not None and scanned < total:
        lines.append(f"Statistics of {scanned:,} of the {total:,} examples (evenly spaced)")
    else:
        lines.append(f"Statistics of all {total:,} examples")
    done = {"examples", "scanned"}

    def summary(name: str, s: Mapping[str, Any], unit: str) -> str:
        parts = " · ".join(f"{k} {s[k]}" for k in ("min", "mean", "p50", "p90", "max") if k in s)
        return f"  {name:<{_W}}{parts}{unit}"

    for key, name, cap, at, rate, cut in (
        ("length", "length", "max_length", "at_max_length", "truncation_rate", "truncation rate"),
        ("target_length", "target length", "max_target_length", "targets_at_max_length",
         "target_truncation_rate", "target truncation"),
    ):  # fmt: skip
        done.update((key, cap, at, rate))
        if stats.get(key):
            lines.append(summary(name, stats[key], " tokens"))
        if stats.get(cap) is not None and stats.get(rate) is not None:
            lines.append(
                # "At most": a sequence exactly max_length long reaches it uncut.
                f"  {cut:<{_W}}{'≤ ' if stats[at] else ''}{_pct(stats[rate])}: {stats[at]:,} of "
                f"{stats.get('scanned', 0):,} reach {cap} {stats[cap]}"
            )
    if stats.get("trained_rate") is not None:
        lines.append(
            f"  {'trained tokens':<{_W}}{stats.get('trained_tokens', 0):,} "
            f"({_pct(stats['trained_rate'])} of the tokens)"
        )
    done.update(("trained_tokens", "trained_rate"))
    if stats.get("labels"):
        counts = stats["labels"]
        lines.append("  labels")
        lines += _bar_rows(counts, sum(counts.values()))
    done.add("labels")
    if stats.get("label_values"):
        lines.append(summary("label values", stats["label_values"], ""))
    done.add("label_values")
    if stats.get("length_histogram"):
        bins = {f"{b['from']}–{b['to']}": b["count"] for b in stats["length_histogram"]}
        lines.append("  lengths")
        lines += _bar_rows(bins, sum(bins.values()))
    done.add("length_histogram")
    for key, value in stats.items():
        if key not in done and value is not None:
            lines.append(f"  {key:<{_W}}{_value(value)}")
    return lines


def render_text(preview: DataPreview, title: str) -> str:
    """A preview for people: ``title``, each example as a block, then the statistics
    and notes. Tokens the loss covers (an example's ``trained``) are shown «so»."""
    lines = [title, ""]
    for ex in preview.examples:
        lines += [*_render_example(ex), ""]
    if any(isinstance(ex.get("trained"), list) for ex in preview.examples):
        lines += ["«token»: the loss covers this token.", ""]
    lines += _render_stats(preview.stats)
    if preview.notes:
        lines += ["", *preview.notes]
    return "\n".join(lines)
