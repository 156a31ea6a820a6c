"""Run directories at a glance: ``ltx runs`` (a table of the runs under a folder) and
``ltx compare`` (config differences, final metrics and metric curves of a few runs).

Reads only what the run directory contract promises (``config.yaml``, ``summary.json``,
``metrics.csv``), so it is fast and torch-free; matplotlib is imported only to draw.
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
    "compare_runs",
    "config_differences",
    "filter_runs",
    "find_runs",
    "flatten",
    "format_table",
    "read_curves",
    "runs_table",
    "sort_runs",
]

#: Written by ``ltx compare`` into its PNG, so a later run may replace its own picture
#: but never a file the user made.
PNG_SOFTWARE = "ltx compare"
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


def _yaml(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _json(path: Path) -> dict[str, Any] | None:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _section_name(config: Mapping[str, Any], section: str) -> str:
    node = config.get(section)
    if isinstance(node, Mapping):
        return str(node.get("name", ""))
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
            summary = _json(path / "summary.json")
            metrics = {}
            if summary and isinstance(summary.get("metrics"), dict):
                metrics = {k: v for k, v in summary["metrics"].items() if _is_number(v)}
            else:
                metrics = last_values(path / "metrics.csv")
            name = str(path.relative_to(base)) if path != base else path.name
            found.append(RunInfo(path, name, _yaml(path / "config.yaml"), summary, metrics))
        else:
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
    return sorted(found, key=lambda r: r.name)


def _is_number(value: Any) -> bool:
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
        return (0, value if _is_number(value) else str(value))

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
            if op in ("=", "!=") and not (_is_number(have) and _is_number(want)):
                ok = (str(have) == str(raw)) if op == "=" else (str(have) != str(raw))
                if isinstance(have, bool | type(None)) or isinstance(want, bool | type(None)):
                    ok = (have == want) if op == "=" else (have != want)
            elif _is_number(have) and _is_number(want):
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


def load_run(path: str | Path) -> RunInfo:
    """One run directory for ``ltx compare``; a folder that is not a run is an error."""
    p = Path(path)
    if not p.is_dir():
        raise LtxError(f"Run directory '{p}' does not exist.")
    if not (p / "config.yaml").is_file():
        raise LtxError(f"'{p}' is not a run directory: it has no config.yaml.")
    summary = _json(p / "summary.json")
    if summary and isinstance(summary.get("metrics"), dict):
        metrics = {k: v for k, v in summary["metrics"].items() if _is_number(v)}
    else:
        metrics = last_values(p / "metrics.csv")
    return RunInfo(p, str(p), _yaml(p / "config.yaml"), summary, metrics)


#: Keys that differ between any two runs and say nothing about what was trained.
_IGNORED_DIFFERENCES = ("output_dir",)


def config_differences(configs: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """``{key: [value in run 1, value in run 2, ...]}`` for every leaf that differs."""
    flats = [flatten(c) for c in configs]
    keys = sorted(set().union(*flats)) if flats else []
    missing = object()
    out: dict[str, list[Any]] = {}
    for key in keys:
        if key in _IGNORED_DIFFERENCES:
            continue
        values = [f.get(key, missing) for f in flats]
        if any(v != values[0] for v in values[1:]):
            out[key] = ["(unset)" if v is missing else v for v in values]
    return out


def _short_names(paths: Sequence[Path]) -> list[str]:
    """The shortest path tails that tell the runs apart (trials/3 rather than a long
    absolute path)."""
    parts = [p.resolve().parts for p in paths]
    # Two components at least: "trials/3" reads better than a bare "3".
    for n in range(min(2, min(len(p) for p in parts)), max(len(p) for p in parts) + 1):
        names = ["/".join(p[-n:]) for p in parts]
        if len(set(names)) == len(names):
            return names
    return [str(p) for p in paths]


def _curve_metrics(curves: Sequence[Mapping[str, Sequence[Any]]], limit: int = 6) -> list[str]:
    """Metrics with a curve (more than one point in some run): validation first."""
    keys: dict[str, None] = {}
    for c in curves:
        keys.update(dict.fromkeys(k for k, pts in c.items() if len(pts) > 1))

    def rank(key: str) -> tuple[int, str]:
        order = ("val_", "train_", "lr")
        return (next((i for i, p in enumerate(order) if key.startswith(p)), len(order)), key)

    chosen: list[str] = []
    for key in sorted(keys, key=rank):
        # One panel for curves that are the same in every run (lr of two param groups).
        if not any(all(c.get(key) == c.get(k) for c in curves) for k in chosen):
            chosen.append(key)
    return chosen[:limit]


def _writable_png(path: Path, overwrite: bool) -> None:
    if not path.exists() or overwrite:
        return
    try:
        head = path.read_bytes()[:4096]
    except OSError:
        head = b""
    if PNG_SOFTWARE.encode() not in head:
        raise LtxError(
            f"'{path}' exists and was not written by ltx compare; pass another --output "
            "or --overwrite."
        )


def draw_curves(
    names: Sequence[str],
    curves: Sequence[Mapping[str, Sequence[tuple[float, float]]]],
    metrics: Sequence[str],
    output: Path,
) -> None:
    """One panel per metric, one line per run, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a training machine
    from matplotlib import pyplot as plt

    cols = min(3, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        for name, curve in zip(names, curves, strict=True):
            pts = curve.get(metric, [])
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.plot(xs, ys, marker="o" if len(pts) < 30 else None, ms=3, label=name)
        ax.set_title(metric)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(names), 4), frameon=False)
    # Room for the legend below the panels: about 0.45 inch a row of names.
    legend_in = 0.45 * (1 + (len(names) - 1) // 4)
    fig.tight_layout(rect=(0, legend_in / fig.get_size_inches()[1], 1, 1))
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp.png")
    fig.savefig(tmp, dpi=100, metadata={"Software": PNG_SOFTWARE})
    plt.close(fig)
    tmp.replace(output)


def compare_runs(
    paths: Sequence[str | Path],
    output: str | Path | None,
    overwrite: bool = False,
    metrics: Sequence[str] = (),
) -> str:
    """The text of ``ltx compare``: the config keys that differ and the final metrics;
    draws the metric curves into ``output`` (a PNG) unless it is None: ``metrics``, or
    up to six of those logged more than once (validation first)."""
    if len(paths) < 2:
        raise LtxError("ltx compare takes two or more run directories.")
    runs = [load_run(p) for p in paths]
    names = _short_names([r.path for r in runs])
    diff = config_differences([r.config for r in runs])
    parts = []
    if diff:
        parts.append(
            "Config differences:\n"
            + format_table(["key", *names], [[k, *v] for k, v in diff.items()])
        )
    else:
        parts.append("Config differences: none (the configs are the same).")
    metric_keys = sorted(set().union(*(r.metrics for r in runs)))
    final_rows: list[list[Any]] = [[m, *(r.metrics.get(m) for r in runs)] for m in metric_keys]
    extra: list[list[Any]] = [
        ["steps", *((r.summary or {}).get("global_step") for r in runs)],
        ["wall_s", *((r.summary or {}).get("wall_time_s") for r in runs)],
        ["status", *(r.status for r in runs)],
    ]
    parts.append("Final values:\n" + format_table(["metric", *names], final_rows + extra))
    if output is not None:
        out = Path(output)
        _writable_png(out, overwrite)
        curves = [read_curves(r.path / "metrics.csv") for r in runs]
        logged = sorted(set().union(*curves))
        for m in metrics:
            if m not in logged:
                hint = did_you_mean(m, logged)
                raise LtxError(f"--metric '{m}' is in no run's metrics.csv.{hint or ''}")
        shown = list(metrics) or _curve_metrics(curves)
        if shown:
            draw_curves(names, curves, shown, out)
            parts.append(f"Curves of {', '.join(shown)}: {out}")
        else:
            parts.append("No metric was logged more than once: no curves to draw.")
    return "\n\n".join(parts)
