"""The sweep of ``ltx sweep``: hyperparameter search with Optuna, each trial a normal ltx
run directory.

A sweep folder holds ``study.db`` (Optuna's SQLite storage, unless ``--storage`` names
another database), ``trials/<n>/`` (one run directory per trial), ``trials.csv``,
``best.yaml`` and ``plots/``. Several processes, on one machine (``--parallel K``) or
many (``--storage postgresql://...``), work on one study; re-running the command
continues it up to N trials in all.

How N is kept exact with several workers and no lock: trials are numbered in the
database's order, and the first N trials that are not retries are the sweep's; a worker
whose new trial falls past them marks it surplus (hidden from the table) and stops. A
trial whose process died (SIGKILL, a lost machine) is failed and queued again with the
same parameters: at once when its process is known dead on this machine, or by Optuna's
heartbeat after a grace period when it ran elsewhere. The retry takes its slot.

Optuna, torch and Lightning are imported inside the functions that run a sweep.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import socket
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ltx_core.config.resolve import deep_merge
from ltx_core.errors import LtxError, RunInterrupted
from ltx_core.runs.listing import flatten
from ltx_sweep.space import Choice, Distribution, Range, check_space, load_space, params_tree
from ltx_sweep.trials import ATTR, UNSET, is_retry

if TYPE_CHECKING:
    from ltx_core.config.request import RunRequest
    from ltx_core.config.resolve import ResolvedConfig

__all__ = ["SweepSettings", "run_sweep"]

#: Seconds between a running trial's heartbeats, and how long one may go silent before
#: another worker declares its process dead and retries it (Optuna's RDB heartbeat).
HEARTBEAT_S = 10
GRACE_S = 60
#: How often one trial is retried after its process died.
MAX_RETRY = 3
#: Trials print one line each; a progress bar and a model summary per trial (from K
#: processes) are noise. Set below the user's overrides; best.yaml gets the user's back.
QUIET = ("trainer.enable_progress_bar=false", "trainer.enable_model_summary=false")


@dataclass(frozen=True)
class SweepSettings:
    """Everything ``ltx sweep`` was given."""

    run: RunRequest
    space_file: str
    trials: int
    metric: str
    direction: str
    parallel: int = 1
    storage: str | None = None
    study_name: str | None = None
    output_dir: str | None = None
    sampler: str = "tpe"
    pruner: str = "median"
    pruner_startup: int = 5
    pruner_warmup: int = 1
    verbose: bool = False


@dataclass
class _Plan:
    """The checked sweep: what each worker needs, built once in the launching process."""

    settings: SweepSettings
    space: dict[str, Distribution]
    sweep_dir: Path
    study_name: str
    storage_url: str
    task: str
    seed: int
    base_config: dict[str, Any]
    restore: dict[str, Any]


# ---------------------------------------------------------------- config per trial


def _resolver(run: RunRequest) -> Callable[..., ResolvedConfig]:
    """Resolve the run's config with a layer of sampled values on top (above the
    command line's flags: the sweep decides those keys) and a trial's own folder."""
    flags = {k: v for k, v in run.flags.items() if k != "output_dir"}

    def resolve(layer: dict[str, Any], output_dir: str | None = None) -> ResolvedConfig:
        top = deep_merge(flags, layer)
        if output_dir is not None:
            top["output_dir"] = output_dir
        trial_run = dataclasses.replace(run, overrides=[*QUIET, *run.overrides], flags=top)
        return trial_run.resolve()

    return resolve


def _plan(settings: SweepSettings) -> _Plan:
    """Check everything a user wrote before any trial starts (exit 2 on a mistake)."""
    if settings.trials < 1:
        raise LtxError(f"--trials must be at least 1, not {settings.trials}.")
    if settings.parallel < 1:
        raise LtxError(f"--parallel must be at least 1, not {settings.parallel}.")
    if settings.direction not in ("maximize", "minimize"):
        raise LtxError(f"--direction is maximize or minimize, not '{settings.direction}'.")
    space = load_space(settings.space_file)
    resolve = _resolver(settings.run)
    base = resolve({})
    check_space(space, lambda layer: resolve(layer).to_dict(), settings.space_file)
    if settings.sampler == "grid" and not all(isinstance(d, Choice) for d in space.values()):
        raise LtxError("--sampler grid takes a space of lists only (choices, no ranges).")
    if settings.sampler == "grid":
        points = math.prod(len(d.choices) for d in space.values() if isinstance(d, Choice))
        if settings.trials > points:
            raise LtxError(f"The grid has {points} points; ask for --trials {points} or fewer.")
    task = base.task_spec.name
    sweep_dir = Path(settings.output_dir or Path("runs") / f"sweep-{task}")
    if sweep_dir.exists() and not sweep_dir.is_dir():
        raise LtxError(f"Sweep folder '{sweep_dir}' is a file; choose another --output-dir.")
    study_name = settings.study_name or sweep_dir.resolve().name
    if settings.storage:
        url = _driver_url(settings.storage)
    else:
        db = sweep_dir / "study.db"
        if not db.exists() and (sweep_dir / "trials").is_dir():
            raise LtxError(
                f"'{sweep_dir}' holds trials but no study.db; choose another --output-dir "
                "(or give the --storage that holds its study)."
            )
        url = f"sqlite:///{db.resolve()}"
    config = base.to_dict()
    config.pop("output_dir", None)
    # What the user's own command gives the keys the sweep quiets, for best.yaml.
    plain = flatten(dataclasses.replace(settings.run, flags={}).resolve().to_dict())
    restore = {o.split("=")[0]: plain.get(o.split("=")[0], UNSET) for o in QUIET}
    return _Plan(
        settings, space, sweep_dir, study_name, url, task, base.config.seed, config, restore
    )


def _driver_url(url: str) -> str:
    """``postgresql://`` means SQLAlchemy's psycopg2 driver; ltx's sweep extra installs
    psycopg 3, so the URL names it unless psycopg2 is the one installed."""
    import importlib.util

    plain = url.startswith(("postgresql://", "postgres://"))
    if plain and not importlib.util.find_spec("psycopg2") and importlib.util.find_spec("psycopg"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _masked(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


# ---------------------------------------------------------------- the study


def _quiet_optuna() -> None:
    import optuna

    # ltx prints a line per trial itself; Optuna's warnings about its experimental
    # heartbeat and a failed trial's traceback would drown it.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")


def _open_storage(plan: _Plan) -> Any:
    import optuna

    _quiet_optuna()
    if plan.storage_url.startswith("sqlite:"):
        plan.sweep_dir.mkdir(parents=True, exist_ok=True)
        # Several processes share the file: wait for a lock rather than fail at once.
        engine: dict[str, Any] = {"connect_args": {"timeout": 120}}
    else:
        engine = {"pool_pre_ping": True}
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    for attempt in range(6):
        try:
            return optuna.storages.RDBStorage(
                plan.storage_url,
                engine_kwargs=engine,
                heartbeat_interval=HEARTBEAT_S,
                grace_period=GRACE_S,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=MAX_RETRY
                ),
            )
        except (IntegrityError, ProgrammingError):
            # Two sweeps starting together on a new database both create Optuna's
            # tables; the loser's CREATE fails on the winner's. The tables exist now.
            if attempt == 5:
                raise
            time.sleep(0.5 * (attempt + 1))
        except ModuleNotFoundError as exc:
            raise LtxError(
                f"The storage '{_masked(plan.storage_url)}' needs the '{exc.name}' package; "
                f"reinstall ltx-sweep with its dependencies (pip install ltx-sweep)."
            ) from None
        except Exception as exc:  # SQLAlchemy's: bad URL, refused connection, bad password
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise LtxError(
                f"Cannot open the study storage '{_masked(plan.storage_url)}': {first}"
            ) from None
    raise AssertionError("unreachable")


def _sampler(plan: _Plan, salt: int) -> Any:
    import optuna

    # Each worker and each resumed process gets its own seed: the same seed would
    # propose the same first points again.
    seed = plan.seed + salt
    if plan.settings.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if plan.settings.sampler == "grid":
        grid = {k: list(d.choices) for k, d in plan.space.items() if isinstance(d, Choice)}
        return optuna.samplers.GridSampler(grid, seed=plan.seed)  # one shared order
    if plan.settings.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    raise LtxError(f"--sampler is tpe, random or grid, not '{plan.settings.sampler}'.")


def _pruner(plan: _Plan) -> Any:
    import optuna

    s = plan.settings
    if s.pruner == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=s.pruner_startup, n_warmup_steps=s.pruner_warmup
        )
    if s.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner()
    if s.pruner == "none":
        return optuna.pruners.NopPruner()
    raise LtxError(f"--pruner is median, hyperband or none, not '{s.pruner}'.")


def _identity(plan: _Plan) -> dict[str, Any]:
    """What makes two commands the same sweep (the number of trials may grow)."""
    return {
        "task": plan.task,
        "metric": plan.settings.metric,
        "direction": plan.settings.direction,
        "space": {k: d.describe() for k, d in plan.space.items()},
        "config": flatten(plan.base_config),
        "restore": plan.restore,
    }


def _differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    out = []
    for key in ("task", "metric", "direction"):
        if saved.get(key) != now[key]:
            out.append(f"{key}: {saved.get(key)!r} -> {now[key]!r}")
    for what in ("space", "config"):
        a, b = saved.get(what) or {}, now[what]
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                label = f"{what} {key}" if what == "space" else key
                out.append(f"{label}: {a.get(key, '(unset)')!r} -> {b.get(key, '(unset)')!r}")
    return out


def _study(plan: _Plan, storage: Any, salt: int) -> Any:
    import optuna
    from optuna.trial import TrialState

    study = optuna.create_study(
        storage=storage,
        study_name=plan.study_name,
        direction="maximize" if plan.settings.direction == "maximize" else "minimize",
        sampler=_sampler(plan, salt),
        pruner=_pruner(plan),
        load_if_exists=True,
    )
    now = _identity(plan)
    saved = study.user_attrs.get(ATTR + "sweep")
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    if saved is None or (not done and saved != now):
        # A study with no finished trial yet (e.g. stopped at once by a misspelt
        # --metric) takes the corrected command.
        study.set_user_attr(ATTR + "sweep", now)
    else:
        changes = _differences(saved, now)
        if changes:
            shown = "; ".join(changes[:3]) + (f" (+{len(changes) - 3} more)" if changes[3:] else "")
            raise LtxError(
                f"The study '{plan.study_name}' was started with another sweep ({shown}); "
                "re-run its own command to continue it, or choose another --output-dir "
                "or --study-name for a new sweep."
            )
    return study


# ---------------------------------------------------------------- dead trials


def _process_start(pid: int) -> str | None:
    """The process's start time (from /proc), so a reused pid is not taken for it;
    ``"Z"`` for a zombie (killed, not yet reaped)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return "Z" if fields[0] in ("Z", "X") else fields[19]


def _alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    now = _process_start(pid)
    if now == "Z":
        return False
    return started is None or now is None or now == started


def _fail_dead_trials(study: Any, storage: Any) -> None:
    """Fail and queue again the running trials of this machine whose process is gone
    (a trial on another machine waits for the heartbeat's grace period instead)."""
    import optuna
    from optuna.trial import TrialState

    host = socket.gethostname()
    retry = storage.get_heartbeat_stale_trial_callback()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        attrs = trial.user_attrs
        if attrs.get(ATTR + "host") != host or not isinstance(attrs.get(ATTR + "pid"), int):
            continue
        if _alive(attrs[ATTR + "pid"], attrs.get(ATTR + "pid_start")):
            continue
        try:
            # The note first: a finished trial takes no more attributes.
            storage.set_trial_user_attr(trial._trial_id, ATTR + "error", "its process died")
            if not storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another worker got there first
        if retry is not None:
            retry(study, storage.get_trial(trial._trial_id))


# ---------------------------------------------------------------- one trial


class _Surplus(Exception):
    """A trial past the sweep's N (another worker took the last slot)."""


class _TrialFailed(Exception):
    """A trial the config or the data refused; the sweep goes on."""


class _MetricMissing(LtxError):
    """--metric names nothing the trial logged: the sweep stops; the trial is queued
    again for the corrected command."""


def _suggest(trial: Any, key: str, dist: Distribution) -> Any:
    if isinstance(dist, Choice):
        return trial.suggest_categorical(key, list(dist.choices))
    assert isinstance(dist, Range)
    if dist.is_int:
        step = int(dist.step) if dist.step is not None else 1
        return trial.suggest_int(key, int(dist.low), int(dist.high), step=step, log=dist.log)
    return trial.suggest_float(key, float(dist.low), float(dist.high), step=dist.step, log=dist.log)


def _objective(plan: _Plan, state: dict[str, Any]) -> Callable[[Any], float]:
    import optuna

    resolve = _resolver(plan.settings.run)
    metric = plan.settings.metric

    def objective(trial: Any) -> float:
        state["number"] = trial.number
        trial.set_user_attr(ATTR + "host", socket.gethostname())
        trial.set_user_attr(ATTR + "pid", os.getpid())
        trial.set_user_attr(ATTR + "pid_start", _process_start(os.getpid()))
        if trial.user_attrs.get(ATTR + "error"):  # a retry inherits its original's note
            trial.set_user_attr(ATTR + "error", "")
        frozen = trial.study.get_trials(deepcopy=False)
        if not is_retry(_frozen(frozen, trial.number)):
            rank = sum(1 for t in frozen if t.number < trial.number and not is_retry(t))
            if rank >= plan.settings.trials:
                trial.set_user_attr(ATTR + "surplus", True)
                raise _Surplus
        params = {key: _suggest(trial, key, dist) for key, dist in plan.space.items()}
        run_dir = plan.sweep_dir / "trials" / str(trial.number)
        trial.set_user_attr(ATTR + "run_dir", str(run_dir.resolve()))
        _announce(trial.number, params)
        try:
            resolved = resolve(params_tree(params), str(run_dir))
        except LtxError as exc:  # a combination the config refuses (checked per trial)
            trial.set_user_attr(ATTR + "error", str(exc))
            raise _TrialFailed from None
        trial.set_user_attr(ATTR + "config", resolved.to_dict())

        from ltx_core.engine.training import train
        from ltx_sweep.pruning import PruningCallback

        pruning = PruningCallback(trial, metric)
        try:
            train(resolved, verbose=plan.settings.verbose, extra_callbacks=[pruning])
        except RunInterrupted:
            raise
        except LtxError as exc:
            trial.set_user_attr(ATTR + "error", str(exc))
            raise _TrialFailed from None
        summary_path = run_dir / "summary.json"
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        trial.set_user_attr(ATTR + "steps", summary.get("global_step"))
        if pruning.pruned_at_step is not None:
            from ltx_core.runs.layout import write_json

            # The run directory says why it stopped early (ltx runs shows "pruned").
            summary["stopped_by"] = "pruned"
            write_json(summary_path, summary)
            raise optuna.TrialPruned(f"pruned at step {pruning.pruned_at_step}")
        value = summary.get("metrics", {}).get(metric)
        if value is None:
            logged = ", ".join(sorted(summary.get("metrics", {}))) or "nothing"
            trial.set_user_attr(ATTR + "error", f"no metric '{metric}'")
            raise _MetricMissing(
                f"The metric '{metric}' was not logged by trial {trial.number} (it logged "
                f"{logged}); give --metric one of those."
            )
        if not math.isfinite(value):
            trial.set_user_attr(ATTR + "error", f"{metric} is {value}")
            raise _TrialFailed
        return float(value)

    return objective


def _frozen(trials: list[Any], number: int) -> Any:
    return next(t for t in trials if t.number == number)


def _announce(number: int, params: dict[str, Any]) -> None:
    shown = ", ".join(f"{k}={_fmt(v)}" for k, v in params.items())
    print(f"trial {number}: {shown}", flush=True)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _report_trial(study: Any, number: int, metric: str) -> None:
    trial = _frozen(study.get_trials(deepcopy=False), number)
    if trial.user_attrs.get(ATTR + "surplus"):
        return
    state = trial.state.name.lower()
    what = f"{metric}={_fmt(trial.value)}" if trial.value is not None else state
    note = trial.user_attrs.get(ATTR + "error")
    elapsed = trial.duration.total_seconds() if trial.duration else None
    took = f" in {elapsed:.1f} s" if elapsed is not None else ""
    print(f"trial {number} {state}: {what}{took}" + (f" ({note})" if note else ""), flush=True)


# ---------------------------------------------------------------- the loop


def _work(plan: _Plan, salt: int) -> None:
    """Run trials until the study has its N; the loop of every worker."""
    import optuna
    from optuna.trial import TrialState

    storage = _open_storage(plan)
    study = _study(plan, storage, salt)
    state: dict[str, Any] = {}
    objective = _objective(plan, state)
    n = plan.settings.trials
    while True:
        _fail_dead_trials(study, storage)
        # Trials of other machines whose heartbeat went silent: queued again here too,
        # so the last worker standing does not leave them running for ever.
        optuna.storages.fail_stale_trials(study)
        trials = study.get_trials(deepcopy=False)
        originals = sum(1 for t in trials if not is_retry(t))
        waiting = any(t.state == TrialState.WAITING for t in trials)
        if originals >= n and not waiting:
            return
        state.clear()
        try:
            study.optimize(objective, n_trials=1, catch=(_Surplus, _TrialFailed))
        except (RunInterrupted, KeyboardInterrupt, _MetricMissing) as exc:
            _requeue(study, storage, state.get("number"))
            if isinstance(exc, RunInterrupted | _MetricMissing):
                raise
            raise RunInterrupted(
                "The sweep was interrupted; run the same command again to continue it."
            ) from None
        number = state.get("number")
        if number is None:
            return  # the sampler stopped the study (a grid is done)
        trial = _frozen(study.get_trials(deepcopy=False), number)
        if trial.user_attrs.get(ATTR + "surplus"):
            return
        _report_trial(study, number, plan.settings.metric)
        from ltx_sweep.report import write_tables

        write_tables(study, plan.sweep_dir, plan.settings.metric, plan.space)


def _requeue(study: Any, storage: Any, number: int | None) -> None:
    """A trial stopped by Ctrl-C or SIGTERM runs again when the sweep is continued."""
    if number is None:
        return
    trial = _frozen(study.get_trials(deepcopy=False), number)
    retry = storage.get_heartbeat_stale_trial_callback()
    if trial.state.name == "FAIL" and retry is not None:
        retry(study, trial)


def _worker_process(plan: _Plan, index: int) -> None:
    """One of ``--parallel K`` worker processes.

    A worker has no CLI around it: it says its one sentence on stderr itself, and its exit
    code tells the launching process what kind of failure it was (2 a user's mistake, 130
    interrupted, 1 unexpected), as the CLI's error boundary would."""
    try:
        _work(plan, salt=1000 * (index + 1) + os.getpid() % 1000)
    except LtxError as exc:
        _worker_error(index, str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("LTX_DEBUG"):
            raise  # multiprocessing prints the traceback; the exit code is 1
        _worker_error(
            index, f"unexpected {type(exc).__name__}: {exc} (set LTX_DEBUG=1 for details)"
        )
        sys.exit(1)


def _worker_error(index: int, message: str) -> None:
    # One line whatever a trial's message holds: control characters are escaped.
    line = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in message)
    print(f"Error: worker {index}: {line}", file=sys.stderr, flush=True)


def _run_parallel(plan: _Plan) -> None:
    import multiprocessing

    # Processes, not threads: a Lightning run is not thread-safe. fork keeps plugins
    # registered in-process; this process has not imported torch, so forking is safe.
    methods = multiprocessing.get_all_start_methods()
    ctx: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    if ctx.get_start_method() == "fork":
        # Imported once here rather than once per worker (seconds each): importing starts
        # no thread pools, so the children fork from a clean torch, as DataLoader
        # workers do.
        import ltx_core.engine.training  # noqa: F401
    sys.stdout.flush()
    sys.stderr.flush()
    procs = [
        ctx.Process(target=_worker_process, args=(plan, i), name=f"ltx-sweep-worker-{i}")
        for i in range(plan.settings.parallel)
    ]
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.join()
    except KeyboardInterrupt:
        for p in procs:  # each saw Ctrl-C too and is finishing its trial's folder
            p.join(timeout=60)
        raise RunInterrupted(
            "The sweep was interrupted; run the same command again to continue it."
        ) from None
    codes = [p.exitcode for p in procs]
    bad = [c for c in codes if c]
    if bad:
        code = 130 if 130 in bad else (2 if 2 in bad else 1)
        error = LtxError(
            f"{len(bad)} of {len(procs)} sweep workers failed (their messages are above)."
        )
        error.exit_code = code
        raise error


def run_sweep(settings: SweepSettings) -> str:
    """Run (or continue) a sweep; return the text to print: the trials table and the
    best trial. Raises :class:`LtxError` for a user's mistake."""
    plan = _plan(settings)
    storage = _open_storage(plan)
    study = _study(plan, storage, salt=len(_safe_trials(storage, plan)))
    started = time.perf_counter()
    if settings.parallel == 1:
        del study
        _work(plan, salt=len(_safe_trials(storage, plan)))
    else:
        # No database connection may cross a fork.
        storage.remove_session()
        storage.engine.dispose()
        del study, storage
        _run_parallel(plan)
        storage = _open_storage(plan)
    study = _study(plan, storage, salt=0)
    from ltx_sweep.report import write_reports

    elapsed = time.perf_counter() - started
    return write_reports(study, plan.sweep_dir, settings.metric, plan.space, elapsed=elapsed)


def _safe_trials(storage: Any, plan: _Plan) -> list[Any]:
    try:
        study_id = storage.get_study_id_from_name(plan.study_name)
    except KeyError:
        return []
    return list(storage.get_all_trials(study_id, deepcopy=False))
