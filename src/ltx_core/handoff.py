"""The one-way hand-off from a dataset to the model, and what a restore carries.

Only the dataset writes the hand-off: :meth:`ltx_core.data.LtxDataModule.handoff`
returns a :class:`HandOff` (a frozen pydantic model; each plugin subclasses it with
the fields its datasets provide). Readers declare what they read as a ``HandOff``
subclass of their own, and the core checks the dataset's hand-off against it before
anything is built:

- a task by the class annotation ``handoff: MyData`` (read by the core, and what
  ``self.handoff`` is typed as);
- a backbone or tokenizer factory by the annotation of its second parameter,
  ``def build(config: MyConfig, data: MyData, *, request, restore)``.

What a task asks of a backbone (e.g. which head) is not part of the hand-off: the task's
``backbone_request(config)`` returns it and the factory receives it as ``request``.
Whether the model is being restored is the explicit ``restore`` argument
(:class:`Restore`, or ``None`` for a fresh build), which also carries the state a
backbone saved about itself (:class:`BuiltBackbone`). Torch-free.
"""

from __future__ import annotations

import inspect
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationError

from ltx_core.errors import LtxError

__all__ = [
    "LABEL_KEYS",
    "BuiltBackbone",
    "HandOff",
    "Restore",
    "declared_model",
    "describe_handoff_difference",
    "read_handoff",
]

#: Hand-off fields that name labels: a difference in order only gets its own hint.
LABEL_KEYS = ("class_names", "label_names", "id2label", "labels")


class HandOff(BaseModel):
    """What a dataset tells the model: classes, sizes, vocabulary or palette, label names.

    Frozen (only the dataset writes it) and JSON-able (every checkpoint saves it, and
    restoring compares it with the data it meets). Extra fields are allowed: a
    dataset may hand over more than any one reader reads.
    """

    model_config = ConfigDict(frozen=True, extra="allow", protected_namespaces=())

    def as_dict(self) -> dict[str, Any]:
        """Every field, declared and extra, as plain JSON-able values."""
        return self.model_dump(mode="json")


@dataclass(frozen=True)
class Restore:
    """Passed to backbones and tasks when a model is rebuilt from a checkpoint."""

    #: The checkpoint being restored.
    checkpoint: str
    #: The hand-off saved in the checkpoint (what the model was trained with).
    handoff: Mapping[str, Any] = field(default_factory=dict)
    #: What the backbone's factory saved about itself (:class:`BuiltBackbone`); for
    #: checkpoints of ltx 0.1, which saved it inside the hand-off, the saved hand-off.
    backbone_state: Mapping[str, Any] = field(default_factory=dict)


class BuiltBackbone(NamedTuple):
    """A factory's result when the backbone must remember something to be rebuilt
    without its original files (e.g. a hub model's config): ``state`` is saved in every
    checkpoint and handed back as ``restore.backbone_state``."""

    module: Any
    state: dict[str, Any]


def declared_model(obj: Any, *, parameter: str | None = None) -> type[HandOff]:
    """The ``HandOff`` subclass a reader declares: the class annotation ``handoff`` of a
    task class, or the annotation of a factory's ``parameter`` (default: its second)."""
    try:
        if isinstance(obj, type):
            hints = typing.get_type_hints(obj)
            ann = hints.get("handoff")
        else:
            params = list(inspect.signature(obj).parameters)
            name = parameter or (params[1] if len(params) > 1 else "")
            ann = typing.get_type_hints(obj).get(name)
    except Exception:  # unresolvable annotations: nothing declared
        return HandOff
    return ann if isinstance(ann, type) and issubclass(ann, HandOff) else HandOff


def read_handoff(
    model: type[HandOff], provided: HandOff | Mapping[str, Any], *, reader: str, dataset: str
) -> HandOff:
    """The hand-off as ``reader`` declared it; one sentence naming the reader, the key
    and what the dataset provided when it does not fit."""
    data = provided.as_dict() if isinstance(provided, HandOff) else dict(provided)
    if isinstance(provided, model):
        return provided
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "?"
        have = ", ".join(sorted(data)) or "nothing"
        if err["type"] == "missing":
            raise LtxError(
                f"The {reader} reads '{key}' from the dataset's hand-off, but the dataset "
                f"'{dataset}' provides only: {have}."
            ) from None
        raise LtxError(
            f"The {reader} reads '{key}' from the dataset's hand-off, but the dataset "
            f"'{dataset}' provides {_short(err.get('input'))}: {err['msg'].rstrip('.')}."
        ) from None


def describe_handoff_difference(saved: Mapping[str, Any], rebuilt: Mapping[str, Any]) -> str:
    """What differs between a checkpoint's hand-off and the rebuilt dataset's ('' if
    nothing). Keys only one side has are not differences: a newer dataset may hand over
    more than an older checkpoint saved."""
    parts: list[str] = []
    for key in sorted(set(saved) & set(rebuilt)):
        old, new = saved[key], rebuilt[key]
        if _same(old, new):
            continue
        if key in LABEL_KEYS and _same_labels_reordered(old, new):
            parts.append(
                f"'{key}' has the same labels in another order ({_short(old)} in the "
                f"checkpoint, {_short(new)} here; set dataset.label_names to the "
                f"checkpoint's order)"
            )
        else:
            parts.append(f"'{key}' is {_short(old)} in the checkpoint but {_short(new)} here")
    return "; ".join(parts)


def _labels(value: Any) -> list[str] | None:
    if isinstance(value, Mapping):
        return [str(value[k]) for k in sorted(value, key=lambda k: int(k))]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return None


def _same_labels_reordered(old: Any, new: Any) -> bool:
    a, b = _labels(old), _labels(new)
    return a is not None and b is not None and a != b and sorted(a) == sorted(b)


def _same(a: Any, b: Any) -> bool:
    """Equal, with JSON's view of keys (int 0 and "0") and float noise forgiven."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        sa = {str(k): v for k, v in a.items()}
        sb = {str(k): v for k, v in b.items()}
        return sa.keys() == sb.keys() and all(_same(sa[k], sb[k]) for k in sa)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-5, abs_tol=1e-6)
        except (TypeError, ValueError):
            return False
    return bool(a == b)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
