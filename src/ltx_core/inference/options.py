"""Typed prediction options: what ``ltx predict --set key=value`` and ``ltx serve``'s
``"options"`` are validated against.

Each task declares a pydantic model (``predict_options`` on the task class, and the same
model as a ``"module:attr"`` string in its spec so ``ltx info`` lists it without
importing torch). Torch-free on purpose: ``ltx info`` imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ltx_core.errors import LtxError, did_you_mean

__all__ = [
    "NoPredictOptions",
    "describe_options",
    "parse_predict_options",
    "parse_set_items",
]


class NoPredictOptions(BaseModel):
    """A task without prediction options: any ``--set`` is refused."""

    model_config = ConfigDict(extra="forbid")


def parse_set_items(items: list[str] | None) -> dict[str, Any]:
    """``["a=1", "b=[0.1, 0.9]"]`` (``--set`` arguments) as ``{"a": "1", "b": [0.1, 0.9]}``.

    A list, a mapping or ``null`` is read as YAML (as ``key.path=value`` config overrides
    are); a scalar stays the text it is and the options model converts it, so ``--set
    sep=yes`` stays the string 'yes' where YAML would have made it ``True``.
    """
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise LtxError(f"--set takes key=value, not '{item}'.")
        out[key.strip()] = _value(key.strip(), value)
    return out


def _value(key: str, text: str) -> Any:
    stripped = text.strip()
    if not (stripped.startswith(("[", "{")) or stripped in ("null", "~", "Null", "NULL")):
        return text
    import yaml

    try:
        return yaml.safe_load(stripped)
    except yaml.YAMLError as exc:
        problem = str(getattr(exc, "problem", "") or exc).strip()
        raise LtxError(f"--set {key}={text} is not valid YAML ({problem}).") from None


M = TypeVar("M", bound=BaseModel)

_KINDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "string": "a string",
    "list": "a list",
    "dict": "an object",
    "literal": "one of the allowed values",
}


def parse_predict_options(
    model: type[M], raw: Mapping[str, Any] | BaseModel | None, task: str = ""
) -> M:
    """Validate options (strings from the command line, or JSON values from a request).

    An empty string means the default. Raises :class:`LtxError` with one sentence: an
    unknown name (with the nearest known one), a value of the wrong type or range.
    """
    if isinstance(raw, model):
        return raw
    if isinstance(raw, BaseModel):
        raw = raw.model_dump(exclude_unset=True)
    given = {k: v for k, v in (raw or {}).items() if v is not None and v != ""}
    fields = model.model_fields
    forbids = model.model_config.get("extra") == "forbid"
    of = f" of the task '{task}'" if task else ""
    if forbids:
        for key in given:
            if key not in fields:
                if not fields:
                    who = f"The task '{task}'" if task else "This task"
                    raise LtxError(f"{who} takes no predict options (got '{key}').")
                known = ", ".join(fields)
                hint = did_you_mean(key, fields)
                raise LtxError(f"Unknown predict option '{key}'{of} (known: {known}).{hint}")
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(p) for p in err["loc"]) or "options"
        top = str(err["loc"][0]) if err["loc"] else ""
        value = given.get(top, err.get("input"))
        kind = err["type"]
        for suffix in ("_parsing", "_type"):
            if kind.endswith(suffix):
                base = kind[: -len(suffix)]
                want = _KINDS.get(base.split("_")[0], base.replace("_", " "))
                raise LtxError(f"Predict option {name}={value!r} must be {want}.") from None
        if kind == "literal_error":
            raise LtxError(f"Predict option {name}={value!r}: {err['msg'].lower()}.") from None
        raise LtxError(
            f"Predict option {name}={value!r} is out of range: {err['msg'].lower()}."
        ) from None


def describe_options(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The options as ``ltx info`` lists them: name, type, default, description."""
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        type_name = ann.__name__ if isinstance(ann, type) else str(ann).replace("typing.", "")
        out.append(
            {
                "name": name,
                "type": type_name,
                "default": (
                    "(required)"
                    if field.is_required()
                    else field.get_default(call_default_factory=True)
                ),
                "description": field.description or "",
            }
        )
    return out
