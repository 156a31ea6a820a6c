"""What a sweep leaves in its folder: ``trials.csv``, ``best.yaml`` and ``plots/*.png``
(Optuna's matplotlib visualisations), and the table ``ltx sweep`` prints.

Every file is written to a temporary name and renamed, since several worker processes
rewrite them as their trials end.
"""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path
from typing import Any

import yaml

from ltx_core.runs.listing import format_table
from ltx_sweep.space import Distribution
from ltx_sweep.trials import ATTR, UNSET, is_retry

__all__ = ["trial_rows", "write_reports", "write_tables"]


def _atomic_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{id(text)}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _shown_trials(study: Any) -> list[Any]:
    """The sweep's trials: not the surplus ones a racing worker gave up."""
    return [t for t in study.get_trials(deepcopy=False) if not t.user_attrs.get(ATTR + "surplus")]


def trial_rows(
    study: Any, metric: str, space: dict[str, Distribution]
) -> tuple[list[str], list[list[Any]]]:
    """Headers and one row per trial: number, state, metric, parameters, steps, seconds,
    run directory and a note (why it failed, was pruned or retried)."""
    trials = _shown_trials(study)
    retried_as = {}
    for t in trials:
        if is_retry(t):
            history = t.system_attrs.get("retry_history") or [t.system_attrs["failed_trial"]]
            retried_as[history[-1]] = t.number
    headers = ["number", "state", metric, *space, "steps", "seconds", "run_dir", "note"]
    rows = []
    for t in trials:
        notes = []
        if t.user_attrs.get(ATTR + "error"):
            notes.append(str(t.user_attrs[ATTR + "error"]))
        if t.number in retried_as:
            notes.append(f"retried as trial {retried_as[t.number]}")
        if is_retry(t):
            notes.append(f"retry of trial {t.system_attrs['failed_trial']}")
        if t.state.name == "PRUNED" and t.intermediate_values:
            last = max(t.intermediate_values)
            notes.append(f"pruned after validation {last + 1}")
        seconds = round(t.duration.total_seconds(), 1) if t.duration else None
        rows.append(
            [
                t.number,
                t.state.name.lower(),
                t.value,
                *(t.params.get(k) for k in space),
                t.user_attrs.get(ATTR + "steps"),
                seconds,
                t.user_attrs.get(ATTR + "run_dir", ""),
                "; ".join(notes),
            ]
        )
    return headers, rows


def _best(study: Any) -> Any | None:
    try:
        return study.best_trial
    except ValueError:  # no complete trial yet
        return None


def write_tables(study: Any, sweep_dir: Path, metric: str, space: dict[str, Distribution]) -> None:
    """``trials.csv`` and ``best.yaml`` (cheap: written after every trial)."""
    headers, rows = trial_rows(study, metric, space)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    _atomic_text(sweep_dir / "trials.csv", buf.getvalue())
    best = _best(study)
    if best is not None and isinstance(best.user_attrs.get(ATTR + "config"), dict):
        config = dict(best.user_attrs[ATTR + "config"])
        # A new run of the best config goes to a new folder; trials/<n> already holds one.
        config["output_dir"] = None
        restore = study.user_attrs.get(ATTR + "sweep", {}).get("restore", {})
        for key, value in restore.items():  # the keys the sweep quieted: the user's values
            node = config
            *parents, leaf = key.split(".")
            for part in parents:
                node[part] = dict(node.get(part) or {})
                node = node[part]
            if value == UNSET:
                node.pop(leaf, None)
            else:
                node[leaf] = value
        head = (
            f"# The best trial ({best.number}) of sweep '{study.study_name}': {metric} = "
            f"{best.value:.6g}.\n# Train it again with: ltx train --config best.yaml\n"
        )
        _atomic_text(sweep_dir / "best.yaml", head + yaml.safe_dump(config, sort_keys=False))


def _save(ax: Any, path: Path) -> None:
    import numpy as np

    fig = ax.figure if not isinstance(ax, np.ndarray) else ax.flat[0].figure
    fig.set_size_inches(max(fig.get_size_inches()[0], 7), max(fig.get_size_inches()[1], 4.5))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    tmp.replace(path)


def write_plots(study: Any, sweep_dir: Path, space: dict[str, Distribution]) -> list[str]:
    """Optuna's pictures of the study; a note for each one skipped (and why)."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a training machine
    import optuna
    from optuna.trial import TrialState
    from optuna.visualization import matplotlib as ovm

    notes: list[str] = []
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    plots = sweep_dir / "plots"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", UserWarning)
        if not complete:
            return ["no complete trial: no plots"]
        _save(ovm.plot_optimization_history(study), plots / "optimization_history.png")
        if len(space) >= 2 and len(complete) >= 3:
            try:
                _save(ovm.plot_param_importances(study), plots / "param_importances.png")
            except (ValueError, RuntimeError) as exc:
                notes.append(f"parameter importances skipped: {exc}")
        else:
            notes.append("parameter importances need 2 or more parameters and 3 complete trials")
        if len(complete) >= 2:
            _save(ovm.plot_parallel_coordinate(study), plots / "parallel_coordinate.png")
        if any(t.intermediate_values for t in study.get_trials(deepcopy=False)):
            _save(ovm.plot_intermediate_values(study), plots / "intermediate_values.png")
    return notes


def write_reports(
    study: Any,
    sweep_dir: Path,
    metric: str,
    space: dict[str, Distribution],
    elapsed: float | None = None,
) -> str:
    """All of a sweep's outputs; returns the table and a closing summary."""
    write_tables(study, sweep_dir, metric, space)
    notes = write_plots(study, sweep_dir, space)
    headers, rows = trial_rows(study, metric, space)
    shown = [h for h in headers if h != "run_dir"]
    table = format_table(shown, [[v for h, v in zip(headers, r, strict=True) if h != "run_dir"]
                                 for r in rows])  # fmt: skip
    states: dict[str, int] = {}
    for row in rows:
        states[row[1]] = states.get(row[1], 0) + 1
    counts = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    took = f" in {elapsed:.0f} s" if elapsed is not None else ""
    lines = [table, "", f"Sweep {sweep_dir}: {len(rows)} trials ({counts}){took}."]
    best = _best(study)
    if best is not None:
        lines.append(
            f"Best: trial {best.number}, {metric} = {best.value:.6g}; its config: "
            f"{sweep_dir / 'best.yaml'} (ltx train --config {sweep_dir / 'best.yaml'})."
        )
    else:
        lines.append("No trial completed.")
    lines.append(f"Table: {sweep_dir / 'trials.csv'}; plots: {sweep_dir / 'plots'}/")
    lines += [f"({n})" for n in notes]
    return "\n".join(lines)
