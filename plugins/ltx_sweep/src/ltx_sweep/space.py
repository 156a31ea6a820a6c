"""The search space of ``ltx sweep``: a YAML file mapping config keys to distributions,
read and checked against the task's config before any trial starts.

```yaml
optimizer.lr: {low: 1.0e-4, high: 1.0e-1, log: true}   # float: a bound is a float
backbone.hidden: {low: 4, high: 32, step: 4}            # int: both bounds are integers
dataset.batch_size: [16, 32, 64]                        # a list is a choice
```

Torch- and Optuna-free: the distributions are plain records that :mod:`ltx_sweep.study`
turns into ``trial.suggest_*`` calls.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ltx_core.errors import LtxError, did_you_mean

__all__ = ["Choice", "Distribution", "Range", "check_space", "load_space", "params_tree"]

_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")
_RANGE_KEYS = ("low", "high", "log", "step")
#: Run settings a sweep owns itself: each trial gets its own folder under the sweep's.
_NOT_SWEEPABLE = ("output_dir",)


@dataclass(frozen=True)
class Range:
    """A number between ``low`` and ``high`` (inclusive); an int when both bounds are."""

    low: float | int
    high: float | int
    log: bool = False
    step: float | int | None = None

    @property
    def is_int(self) -> bool:
        return isinstance(self.low, int) and isinstance(self.high, int)

    def probes(self) -> list[tuple[str, Any]]:
        """The values the config is checked with: both ends."""
        return [("low", self.low), ("high", self.high)]

    def describe(self) -> str:
        extra = ", log" if self.log else ""
        extra += f", step {self.step}" if self.step is not None else ""
        return f"{'int' if self.is_int else 'float'} [{self.low}, {self.high}{extra}]"


@dataclass(frozen=True)
class Choice:
    """One of a list of values."""

    choices: tuple[Any, ...]

    def probes(self) -> list[tuple[str, Any]]:
        return [(f"choice {i + 1}", c) for i, c in enumerate(self.choices)]

    def describe(self) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)


Distribution = Range | Choice


def _number(value: Any) -> Any:
    # YAML 1.1 (PyYAML) reads 1e-3 as a string; people mean a number (as for overrides).
    if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        return float(value)
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _range(where: str, spec: dict[str, Any]) -> Range:
    unknown = [k for k in spec if k not in _RANGE_KEYS]
    if unknown:
        hint = did_you_mean(str(unknown[0]), _RANGE_KEYS)
        raise LtxError(
            f"{where}: unknown setting '{unknown[0]}'.{hint or ''} A range takes "
            "low, high, log and step; a list is a choice."
        )
    if "low" not in spec or "high" not in spec:
        raise LtxError(f"{where}: a range needs both low and high (e.g. {{low: 1, high: 8}}).")
    low, high, step = _number(spec["low"]), _number(spec["high"]), _number(spec.get("step"))
    log = spec.get("log", False)
    for name, value in (("low", low), ("high", high)):
        if not _is_number(value) or not math.isfinite(value):
            raise LtxError(f"{where}: {name} must be a number, not {value!r}.")
    if step is not None and (not _is_number(step) or step <= 0):
        raise LtxError(f"{where}: step must be a positive number, not {step!r}.")
    if not isinstance(log, bool):
        raise LtxError(f"{where}: log must be true or false, not {log!r}.")
    if low > high:
        raise LtxError(f"{where}: low ({low}) is above high ({high}).")
    if log and low <= 0:
        raise LtxError(f"{where}: a log range needs low above 0, not {low}.")
    if log and step is not None:
        raise LtxError(f"{where}: a range takes log or step, not both (Optuna's rule).")
    integer = isinstance(low, int) and isinstance(high, int)
    if integer and step is not None and not isinstance(step, int):
        raise LtxError(f"{where}: an integer range takes an integer step, not {step!r}.")
    return Range(low=low, high=high, log=log, step=step)


def _choice(where: str, values: list[Any]) -> Choice:
    if not values:
        raise LtxError(f"{where}: an empty list offers nothing to choose from.")
    values = [_number(v) for v in values]
    for v in values:
        # What Optuna stores as a categorical choice.
        if not (v is None or isinstance(v, bool | int | float | str)):
            raise LtxError(
                f"{where}: choices must be numbers, strings, booleans or null, not {v!r}."
            )
    if len(set(map(repr, values))) != len(values):
        raise LtxError(f"{where}: a choice is listed twice.")
    return Choice(tuple(values))


def load_space(path: str | Path) -> dict[str, Distribution]:
    """Read and parse a space file; every mistake in its shape is one sentence."""
    p = Path(path)
    if not p.is_file():
        raise LtxError(f"Space file '{p}' does not exist.")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise LtxError(f"Space file '{p}' is not valid YAML{at}.") from None
    if not isinstance(data, dict) or not data:
        raise LtxError(
            f"Space file '{p}' must map config keys to distributions "
            "(e.g. 'optimizer.lr: {low: 1.0e-4, high: 1.0e-2, log: true}')."
        )
    space: dict[str, Distribution] = {}
    for key, spec in _flat(data).items():
        where = f"Space file '{p}', key '{key}'"
        if key in _NOT_SWEEPABLE:
            raise LtxError(f"{where}: the sweep chooses each trial's folder itself.")
        if isinstance(spec, list):
            space[key] = _choice(where, spec)
        elif isinstance(spec, dict):
            space[key] = _range(where, spec)
        else:
            raise LtxError(
                f"{where}: give a range ({{low: ..., high: ...}}) or a list of choices, "
                f"not {spec!r}; a fixed value is an override on the command line."
            )
    return space


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{optimizer: {lr: {low, high}}}`` and ``{optimizer.lr: {low, high}}`` alike."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        nested = isinstance(value, dict) and value and not set(value) & set(_RANGE_KEYS)
        if nested:
            out.update(_flat(value, path + "."))
        else:
            out[path] = value
    return out


def params_tree(params: dict[str, Any]) -> dict[str, Any]:
    """``{"optimizer.lr": 0.01}`` -> ``{"optimizer": {"lr": 0.01}}``, a config layer."""
    tree: dict[str, Any] = {}
    for key, value in params.items():
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return tree


def _lookup(tree: dict[str, Any], key: str) -> tuple[bool, Any]:
    node: Any = tree
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def check_space(
    space: dict[str, Distribution],
    resolve: Callable[[dict[str, Any]], dict[str, Any]],
    source: str,
) -> None:
    """Resolve the run's config with each distribution's ends and each choice, one key at
    a time, so a typo or a value the config refuses stops the sweep before any trial.

    ``resolve`` takes a config layer of sampled values and returns the resolved config
    as a plain tree; it raises :class:`LtxError` for what the config refuses.
    """
    for key, dist in space.items():
        for what, value in dist.probes():
            try:
                resolved = resolve(params_tree({key: value}))
            except LtxError as exc:
                # resolve_config says where a value came from; here it came from the space.
                msg = str(exc).replace(" on the command line", "")
                raise LtxError(
                    f"Space file '{source}', key '{key}' ({what}: {value!r}): {msg}"
                ) from None
            found, got = _lookup(resolved, key)
            if not found:
                continue
            if isinstance(dist, Range) and not dist.is_int and isinstance(got, int):
                raise LtxError(
                    f"Space file '{source}', key '{key}': it takes whole numbers; give "
                    f"integer bounds (e.g. {{low: {int(dist.low)}, high: {int(dist.high)}}})."
                )
