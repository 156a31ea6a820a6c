"""Label vocabularies learnt from the training data, and their encoders.

CSV and TSV give every value as a string, so ``"1"`` and ``1`` mean the same class;
string labels keep their names (sorted, or in the configured order), integer labels
take names from the configuration or the hub's ``ClassLabel`` feature.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from ltx_core.errors import LtxError

__all__ = ["LabelSet", "as_number", "feature_names", "split_multi"]


def as_number(value: Any) -> int | float | None:
    """The number a label value stands for, or ``None`` if it is not one."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        for cast in (int, float):
            try:
                return cast(text)
            except ValueError:
                continue
    return None


def feature_names(features: Any, column: str) -> list[str] | None:
    """Class names of a hub dataset's ``ClassLabel`` column (or sequence of them)."""
    feature = features.get(column) if features is not None else None
    inner = getattr(feature, "feature", None)  # Sequence(ClassLabel)
    for f in (feature, inner):
        names = getattr(f, "names", None)
        if names:
            return list(names)
    return None


class LabelSet:
    """Class names and the mapping of raw label values to class ids."""

    def __init__(self, names: Sequence[str], kind: str, *, given: bool = False) -> None:
        self.names = list(names)
        #: "int": raw values are class ids; "str": raw values are class names.
        self.kind = kind
        #: The names are the user's (dataset.label_names): they, not training, are the set.
        self.given = given
        self._ids = {n: i for i, n in enumerate(self.names)}

    @classmethod
    def learn(
        cls,
        values: Iterable[Any],
        configured: Sequence[str] | None,
        hub_names: list[str] | None,
        what: str,
    ) -> LabelSet:
        """Learn the classes from training labels (flattened if several per example)."""
        seen = [v for v in values]
        if any(v is None or (isinstance(v, str) and not v.strip()) for v in seen):
            raise LtxError(f"The {what} has an empty label; every example needs one.")
        numbers = [as_number(v) for v in seen]
        if seen and all(isinstance(n, int) for n in numbers):
            ids = [int(n) for n in numbers]  # type: ignore[arg-type]
            if min(ids) < 0:
                raise LtxError(
                    f"The {what} has the label {min(ids)}; integer labels must be class ids "
                    f"0, 1, 2, ... (unlabelled rows cannot be trained on)."
                )
            names = list(configured or hub_names or [str(i) for i in range(max(ids) + 1)])
            if max(ids) >= len(names):
                raise LtxError(
                    f"The {what} has the label {max(ids)}, but only {len(names)} label names "
                    f"are given (dataset.label_names)."
                )
            return cls(names, "int")
        found = sorted({str(v).strip() for v in seen})
        if configured:
            unknown = [v for v in found if v not in configured]
            if unknown:
                raise LtxError(
                    f"The {what} has the label '{unknown[0]}', which dataset.label_names "
                    f"does not list."
                )
            return cls(list(configured), "str")
        return cls(found, "str")

    def encode(self, value: Any, what: str) -> int:
        """The class id of one raw label value; an unknown one is the user's error."""
        if self.kind == "int":
            n = as_number(value)
            if isinstance(n, int) and 0 <= n < len(self.names):
                return n
        else:
            key = str(value).strip() if value is not None else None
            if key in self._ids:
                return self._ids[key]
        shown = ", ".join(self.names[:20]) + (" ..." if len(self.names) > 20 else "")
        if self.given:
            raise LtxError(
                f"The {what} has the label '{value}', which dataset.label_names does not list "
                f"(label names: {shown})."
            )
        raise LtxError(
            f"The {what} has the label '{value}', which the training data does not have "
            f"(training labels: {shown})."
        )

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.names))

    def to_meta(self) -> dict[str, Any]:
        return {"label_names": self.names, "label_kind": self.kind}

    @classmethod
    def from_meta(cls, meta: dict[str, Any], *, given: bool = False) -> LabelSet:
        return cls(meta["label_names"], meta["label_kind"], given=given)


def split_multi(value: Any, separator: str | None) -> list[Any]:
    """The labels of one multi-label example: a list, a JSON list, or a separated string."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                parsed = None
            if isinstance(parsed, list):
                return parsed
        if separator:
            return [p.strip() for p in text.split(separator) if p.strip()]
        return [text] if text else []
    return [value]
