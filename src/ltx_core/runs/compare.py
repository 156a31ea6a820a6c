"""``ltx compare``: a few run directories side by side — the config keys that differ, the
final metrics, and the metric curves drawn in one PNG (matplotlib, imported only to draw).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ltx_core.errors import LtxError, did_you_mean
from ltx_core.runs.listing import (
    RunInfo,
    flatten,
    format_table,
    is_number,
    last_values,
    read_curves,
    read_json,
    read_yaml,
)

__all__ = ["compare_runs", "config_differences", "draw_curves", "load_run"]

#: Written by ``ltx compare`` into its PNG, so a later run may replace its own picture
#: but never a file the user made.
PNG_SOFTWARE = "ltx compare"


def load_run(path: str | Path) -> RunInfo:
    """One run directory for ``ltx compare``; a folder that is not a run is an error."""
    p = Path(path)
    if not p.is_dir():
        raise LtxError(f"Run directory '{p}' does not exist.")
    if not (p / "config.yaml").is_file():
        raise LtxError(f"'{p}' is not a run directory: it has no config.yaml.")
    summary = read_json(p / "summary.json")
    if summary and isinstance(summary.get("metrics"), dict):
        metrics = {k: v for k, v in summary["metrics"].items() if is_number(v)}
    else:
        metrics = last_values(p / "metrics.csv")
    return RunInfo(p, str(p), read_yaml(p / "config.yaml"), summary, metrics)


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
