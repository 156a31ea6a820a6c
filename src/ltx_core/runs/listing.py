"""Run directories at a glance: ``ltx runs`` — the runs under a folder as records
(:class:`RunInfo`), sorted, filtered and printed as a table.

Reads only what the run directory contract promises (``config.yaml``, ``summary.json``,
``metrics.csv``), so it is fast and torch-free.
"""

from __future__ import annotations

import csv
import math
import operator
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ltx_core.errors import LtxError, did_you_mean

__all__ = [
    "RunInfo",
    "filter_runs",
    "find_runs",
    "flatten",
    "format_table",
    "last_values",
    "read_curves",
    "read_json",
    "read_yaml",
    "runs_table",
    "sort_runs",
]

#: Columns of ``ltx runs``, before the metrics.
BASE_COLUMNS = ("name", "task", "dataset", "backbone")
TAIL_COLUMNS = ("steps", "wall_s", "status")


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (empty mappings stay leaves)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def read_yaml(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def read_json(path: Path) -> dict[str, Any] | None:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _section_name(config: Mapping[str, Any], section: str) -> str:
    """The component's name as users type it: saved configs record ``plugin:name``, the
    table shows ``name`` (``--filter dataset=digits`` keeps working)."""
    node = config.get(section)
    if isinstance(node, Mapping):
        return str(node.get("name", "")).rpartition(":")[2]
    return "none" if node is None else str(node)


@dataclass
class RunInfo:
    """What ``ltx runs`` shows of one run directory."""

    path: Path
    name: str
    config: dict[str, Any]
    summary: dict[str, Any] | None
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """``finished`` (by its run length or early stopping), ``stopped`` (a signal),
        ``pruned`` (a sweep stopped it), or ``running/crashed`` (no summary.json yet:
        the two look alike from the files)."""
        if self.summary is None:
            return "running/crashed"
        stopped = str(self.summary.get("stopped_by", ""))
        if stopped == "signal":
            return "stopped"
        if stopped == "pruned":
            return "pruned"
        return "finished"

    def row(self) -> dict[str, Any]:
        """The run as one flat record (the ``--json`` shape)."""
        summary = self.summary or {}
        return {
            "name": self.name,
            "path": str(self.path),
            "task": _section_name(self.config, "task"),
            "dataset": _section_name(self.config, "dataset"),
            "backbone": _section_name(self.config, "backbone"),
            "metrics": self.metrics,
            "steps": summary.get("global_step"),
            "wall_s": summary.get("wall_time_s"),
            "status": self.status,
            "stopped_by": summary.get("stopped_by"),
        }


def _is_run(path: Path) -> bool:
    return (path / "config.yaml").is_file() and (
        (path / "metrics.csv").exists()
        or (path / "summary.json").exists()
        or (path / "checkpoints").is_dir()
    )


def find_runs(root: str | Path) -> list[RunInfo]:
    """Every run directory under ``root`` (``root`` itself included), however deep: a
    sweep's ``trials/<n>/`` are runs too. Names are paths relative to ``root``."""
    base = Path(root)
    if not base.is_dir():
        raise LtxError(f"'{base}' is not a folder of runs.")
    found: list[RunInfo] = []
    for dirpath, dirnames, _files in os.walk(base):
        path = Path(dirpath)
        if _is_run(path):
            dirnames.clear()  # a run's own folders (checkpoints, artifacts) hold no runs
            summary = read_json(path / "summary.json")
            metrics = {}
            if summary and isinstance(summary.get("metrics"), dict):
                metrics = {k: v for k, v in summary["metrics"].items() if is_number(v)}
            else:
                metrics = last_values(path / "metrics.csv")
            name = str(path.relative_to(base)) if path != base else path.name
            found.append(RunInfo(path, name, read_yaml(path / "config.yaml"), summary, metrics))
        else:
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
    return sorted(found, key=lambda r: r.name)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def read_curves(metrics_csv: Path) -> dict[str, list[tuple[float, float]]]:
    """``{metric: [(step, value), ...]}`` from a run's ``metrics.csv`` (Lightning's CSV
    logger writes one sparse row per logging call)."""
    curves: dict[str, list[tuple[float, float]]] = {}
    try:
        with metrics_csv.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                try:
                    step = float(row.get("step") or "nan")
                except ValueError:
                    continue
                for key, raw in row.items():
                    if key in ("step", "epoch") or key is None or raw in (None, ""):
                        continue
                    try:
                        curves.setdefault(key, []).append((step, float(raw)))
                    except (TypeError, ValueError):
                        continue
    except OSError:
        return {}
    return curves


def last_values(metrics_csv: Path) -> dict[str, float]:
    """Each metric's last logged value (a run without summary.json yet)."""
    return {k: pts[-1][1] for k, pts in read_curves(metrics_csv).items() if pts}


def _key_metrics(runs: Sequence[RunInfo], limit: int = 4) -> list[str]:
    """The metric columns worth a table's width: validation then test metrics, the ones
    most runs have first."""
    counts: dict[str, int] = {}
    for run in runs:
        for key in run.metrics:
            if key.startswith(("val_", "test_")):
                counts[key] = counts.get(key, 0) + 1
    ranked = sorted(counts, key=lambda k: (-counts[k], not k.startswith("val_"), k))
    return sorted(ranked[:limit], key=lambda k: (not k.startswith("val_"), k))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}"
    return str(value)


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain text table: columns padded to their widest cell, one line per row."""
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in [list(headers), *cells]) for i in range(len(headers))]
    lines = []
    for row in [list(headers), ["-" * len(h) for h in headers], *cells]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _value_of(run: RunInfo, key: str) -> Any:
    """A column, a metric, or a config key (dotted) of a run; KeyError if none."""
    row = run.row()
    if key in row and key != "metrics":
        return row[key]
    if key in run.metrics:
        return run.metrics[key]
    flat = flatten(run.config)
    if key in flat:
        return flat[key]
    raise KeyError(key)


def _known_keys(runs: Sequence[RunInfo]) -> list[str]:
    keys: dict[str, None] = dict.fromkeys(k for k in RunInfo(Path(), "", {}, None).row())
    for run in runs:
        keys.update(dict.fromkeys(run.metrics))
        keys.update(dict.fromkeys(flatten(run.config)))
    keys.pop("metrics", None)
    return list(keys)


def _check_key(key: str, runs: Sequence[RunInfo], what: str) -> None:
    known = _known_keys(runs)
    if runs and key not in known:
        hint = did_you_mean(key, known)
        raise LtxError(
            f"{what} '{key}' is no column, metric or config key of these runs.{hint or ''}"
        )


def sort_runs(runs: list[RunInfo], key: str, descending: bool = False) -> list[RunInfo]:
    """Sort by a column, metric or config key; runs without it go last."""
    _check_key(key, runs, "--sort key")

    def order(run: RunInfo) -> tuple[int, Any]:
        try:
            value = _value_of(run, key)
        except KeyError:
            return (1, 0)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return (1, 0)
        return (0, value if is_number(value) else str(value))

    present = [r for r in runs if order(r)[0] == 0]
    missing = [r for r in runs if order(r)[0] == 1]
    try:
        present.sort(key=lambda r: order(r)[1], reverse=descending)
    except TypeError:  # numbers in some runs, text in others: compare as text
        present.sort(key=lambda r: str(order(r)[1]), reverse=descending)
    return present + missing


_OPS: list[tuple[str, Callable[[Any, Any], bool]]] = [
    (">=", operator.ge),
    ("<=", operator.le),
    ("!=", operator.ne),
    (">", operator.gt),
    ("<", operator.lt),
    ("=", operator.eq),
]
_FILTER = re.compile(r"^\s*([^<>=!\s]+)\s*(>=|<=|!=|>|<|=)\s*(.*?)\s*$")


def _parse_value(text: str) -> Any:
    try:
        value = yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def filter_runs(runs: list[RunInfo], filters: Sequence[str]) -> list[RunInfo]:
    """Keep the runs matching every ``key=value`` (also ``!=``, ``>``, ``>=``, ``<``,
    ``<=`` for numbers); keys as for sorting."""
    ops = dict(_OPS)
    for item in filters:
        match = _FILTER.match(item)
        if not match:
            raise LtxError(
                f"--filter takes key=value (or key>value, key<=value, ...), not '{item}'."
            )
        key, op, raw = match.groups()
        _check_key(key, runs, "--filter key")
        want = _parse_value(raw)
        kept = []
        for run in runs:
            try:
                have = _value_of(run, key)
            except KeyError:
                continue
            if op in ("=", "!=") and not (is_number(have) and is_number(want)):
                ok = (str(have) == str(raw)) if op == "=" else (str(have) != str(raw))
                if isinstance(have, bool | type(None)) or isinstance(want, bool | type(None)):
                    ok = (have == want) if op == "=" else (have != want)
            elif is_number(have) and is_number(want):
                ok = ops[op](have, want)
            else:
                raise LtxError(f"--filter '{item}': '{key}' of '{run.name}' is not a number.")
            if ok:
                kept.append(run)
        runs = kept
    return runs


def runs_table(runs: Sequence[RunInfo]) -> str:
    """The ``ltx runs`` table."""
    metrics = _key_metrics(runs)
    headers = [*BASE_COLUMNS, *metrics, *TAIL_COLUMNS]
    rows = []
    for run in runs:
        row = run.row()
        rows.append(
            [
                *(row[c] for c in BASE_COLUMNS),
                *(run.metrics.get(m) for m in metrics),
                *(row[c] for c in TAIL_COLUMNS),
            ]
        )
    return format_table(headers, rows)


# ---------------------------------------------------------------- ltx compare
