"""The conformance kit for plugin authors: one call checks everything a plugin registers.

For every component: its spec's implementation and config model import; the config
model has a JSON schema, validates its defaults (with the spec's preset) and round-trips
through YAML (field by field where the model has required fields: nothing is invented).
Its registration agrees with the class it names (:func:`check_registration`): a task's
``predict_options``, what ``fits`` names, a task's default components, and the hand-off
each reader declares against what the datasets registered with it declare they hand off.
For the plugin: listing it imports no torch (checked in a fresh process). For every
task: a short CPU fit / validate / test on its default dataset with the spec's
``smoke`` settings, then ``ltx test`` and ``ltx predict`` from the checkpoint alone.

In a plugin's tests::

    from ltx_core.authoring.conformance import check_plugin

    def test_conformance(tmp_path):
        check_plugin("my-plugin", tmp_path)      # raises AssertionError listing problems

or parametrised, one test per component: ``conformance_cases("my-plugin")``.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import typing
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from ltx_core.errors import LtxError, did_you_mean
from ltx_core.handoff import HandOff, declared_model
from ltx_core.registry import get_registry
from ltx_core.registry.spec import ComponentSpec, TaskSpec
from ltx_core.registry.store import Registry

__all__ = [
    "check_component",
    "check_no_torch_on_listing",
    "check_plugin",
    "check_registration",
    "check_task_runs",
    "conformance_cases",
]

_PROBE = """
import json, sys
from ltx_core.registry import get_registry
reg = get_registry()
names = [s.name for s in reg.components() if s.plugin == sys.argv[1]]
heavy = [m for m in ("torch", "pytorch_lightning", "lightning", "transformers") if m in sys.modules]
print(json.dumps({"names": names, "heavy": heavy,
                  "failed": [f.error for f in reg.failures if f.plugin == sys.argv[1]]}))
"""


def _specs(plugin: str) -> list[ComponentSpec]:
    reg = get_registry()
    specs = [s for s in reg.components() if s.plugin == plugin]
    failures = [f for f in reg.failures if f.plugin == plugin]
    if failures:
        raise AssertionError(f"plugin '{plugin}' failed to load: {failures[0].error}")
    if not specs:
        known = ", ".join(p.plugin for p in reg.plugins) or "none"
        raise AssertionError(f"plugin '{plugin}' registers nothing (loaded plugins: {known})")
    return specs


def check_component(spec: ComponentSpec) -> None:
    """The spec resolves; its config has a JSON schema, validates its defaults (with the
    spec's preset) and round-trips through YAML.

    A config with required fields (a value the user must give, e.g. a data file) cannot be
    built from its defaults alone; then every value the defaults and the preset do give is
    validated, and round-tripped, field by field, and nothing is invented for the rest.
    """
    from pydantic import BaseModel

    spec.load_target()
    model = spec.load_config()
    what = f"{spec.kind} '{spec.name}'"
    assert isinstance(model, type) and issubclass(model, BaseModel), (
        f"{what}: config '{spec.config}' is not a pydantic model"
    )
    assert model.model_config.get("extra") == "forbid", (
        f"{what}: config model must forbid unknown keys (subclass LtxConfig)"
    )
    fields = model.model_fields
    undocumented = [n for n, f in fields.items() if not f.description]
    assert not undocumented, f"{what}: fields without a description: {undocumented}"
    json.dumps(model.model_json_schema())  # what `ltx info` and `ltx config --schema` show
    missing = [n for n, f in fields.items() if f.is_required() and n not in spec.defaults]
    if not missing:
        config = model.model_validate(spec.defaults)
        text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
        again = model.model_validate(yaml.safe_load(text))
        assert again == config, f"{what}: config does not round-trip through YAML"
        return
    unknown = sorted(set(spec.defaults) - set(fields))
    assert not unknown, f"{what}: its preset sets keys the config does not have: {unknown}"
    for name, info in fields.items():
        if name in missing:
            continue
        value = (
            spec.defaults[name]
            if name in spec.defaults
            else info.get_default(call_default_factory=True)
        )
        _check_field(what, name, info, value)


def _check_field(what: str, name: str, info: Any, value: Any) -> None:
    """One field's value validates against the field (type and constraints) and survives
    YAML: what validating a whole config checks, for a config that cannot be built."""
    from typing import Annotated

    from pydantic import TypeAdapter, ValidationError

    # The field's type with its constraints (ge=, max_length=, ...), as the model checks it;
    # nested Annotated flattens into one.
    typ: Any = info.annotation
    for constraint in info.metadata:
        typ = Annotated[typ, constraint]
    adapter: TypeAdapter[Any] = TypeAdapter(typ)
    try:
        checked = adapter.validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]["msg"]
        raise AssertionError(
            f"{what}: the default of '{name}' ({value!r}) is invalid: {first}"
        ) from None
    text = yaml.safe_dump(adapter.dump_python(checked, mode="json"), sort_keys=False)
    again = adapter.validate_python(yaml.safe_load(text))
    assert again == checked, f"{what}: '{name}' does not round-trip through YAML"


def check_registration(spec: ComponentSpec) -> None:
    """The registration agrees with the class it names; one sentence per disagreement.

    - a task's ``predict_options`` names the model its class sets as ``predict_options``
      (the predictor's own check, :func:`~ltx_core.inference.predictor.options_model_of`),
      and a class with options registers them (else ``ltx info`` shows none);
    - every name in ``fits`` is a registered task, and a task's default dataset, backbone
      and tokenizer exist and fit it (else every run of it stops in ``resolve_config``);
    - a task's ``handoff:`` annotation and a backbone factory's ``data`` annotation
      resolve (else the core checks nothing against them), and each dataset registered
      with the reader declares (the return annotation of its ``handoff()``) a hand-off
      that has every field the reader requires.

    The datasets a reader meets are those whose ``fits`` names its task and the task's
    default; a dataset that fits any task (empty ``fits``) is checked only as a default.
    """
    reg = get_registry()
    spec.load_target()  # a target that does not import is the one problem worth naming
    problems: list[str] = []
    if spec.kind != "task":
        problems += _fits_problems(spec, reg)
    if isinstance(spec, TaskSpec):
        problems += _predict_options_problems(spec)
        problems += _default_problems(spec, reg)
    if spec.kind in ("task", "backbone"):
        problems += _handoff_problems(spec, reg)
    if problems:
        raise AssertionError("\n".join(problems))


def _who(spec: ComponentSpec) -> str:
    """How a sentence names a component: the way the registry's own errors do."""
    return f"{spec.kind} '{spec.name}' (plugin '{spec.plugin}')"


def _predict_options_problems(spec: TaskSpec) -> list[str]:
    from pydantic import BaseModel

    from ltx_core.inference.options import NoPredictOptions
    from ltx_core.inference.predictor import options_model_of

    cls = spec.load_target()
    declared = getattr(cls, "predict_options", None)
    is_model = isinstance(declared, type) and issubclass(declared, BaseModel)
    if declared is not None and not is_model:
        # options_model_of would quietly take no options: every --set would be refused.
        return [
            f"The {_who(spec)} sets predict_options on its class {cls.__name__} to "
            f"{declared!r}, which is not a pydantic model, so every option is refused."
        ]
    try:
        model = options_model_of(cls, spec)  # what ltx predict and ltx serve check
    except LtxError as exc:
        return [str(exc)]
    if not spec.predict_options and model is not NoPredictOptions:
        return [
            f"The {_who(spec)} declares predict_options {model.__name__} on its class "
            f"{cls.__name__} but registers none, so 'ltx info' lists no options; register "
            f"predict_options='{model.__module__}:{model.__qualname__}'."
        ]
    return []


def _fits_problems(spec: ComponentSpec, reg: Registry) -> list[str]:
    tasks = sorted({t.name for t in reg.components("task")})
    unknown = [name for name in spec.fits if name not in tasks]
    if not unknown:
        return []
    joined = "".join(spec.fits)
    if all(len(name) == 1 for name in spec.fits) and joined in tasks:
        # register(fits="igpt") makes ('i', 'g', 'p', 't'): the name, split into letters.
        return [
            f"The {_who(spec)} registers fits='{joined}', a string, which reads as the "
            f"letters {list(spec.fits)}; give a list: fits=['{joined}']."
        ]
    return [
        f"The {_who(spec)} registers fits={list(spec.fits)}, but no task '{name}' is "
        f"registered (fits takes bare task names).{did_you_mean(name, tasks)}"
        for name in unknown
    ]


def _default_problems(spec: TaskSpec, reg: Registry) -> list[str]:
    problems = []
    for section, name in _defaults(spec):
        try:
            # As resolve_config finds it: the task's own plugin first.
            component = reg.get(section, name, prefer_plugin=spec.plugin or None)
        except LtxError as exc:
            why = str(exc) if str(exc).endswith((".", "?")) else f"{exc}."
            problems.append(
                f"The {_who(spec)} registers default_{section}='{name}', which does not "
                f"resolve: {why}"
            )
            continue
        if component.fits and spec.name not in component.fits:
            problems.append(
                f"The {_who(spec)} registers default_{section}='{name}', but the "
                f"{_who(component)} fits only {', '.join(component.fits)}, so a run of the "
                f"task with its defaults stops."
            )
    return problems


def _defaults(spec: TaskSpec) -> list[tuple[str, str]]:
    """``(section, name)`` of the task's default components ('none' and unset left out)."""
    named = (
        ("dataset", spec.default_dataset),
        ("backbone", spec.default_backbone),
        ("tokenizer", spec.default_tokenizer),
    )
    return [(s, n) for s, n in named if n is not None and n not in ("none", "null")]


def _default(spec: TaskSpec, section: str, reg: Registry) -> ComponentSpec | None:
    """The task's default component of ``section`` as a run resolves it (``None``: none,
    or one that does not resolve, which :func:`_default_problems` names)."""
    for s, name in _defaults(spec):
        if s == section:
            try:
                return reg.get(section, name, prefer_plugin=spec.plugin or None)
            except LtxError:
                return None
    return None


def _serving_datasets(task: TaskSpec, reg: Registry) -> list[ComponentSpec]:
    """The datasets registered with ``task``: its default and those whose fits name it."""
    found = [d for d in reg.components("dataset") if task.name in d.fits]
    default = _default(task, "dataset", reg)
    if default is not None and default not in found:
        found.insert(0, default)
    return found


def _handoff_problems(spec: ComponentSpec, reg: Registry) -> list[str]:
    """The reader's declared hand-off resolves and every dataset it meets declares the
    fields it requires."""
    target = spec.load_target()
    model, problem = _reader_model(spec, target)
    if problem:
        return [problem]
    if isinstance(spec, TaskSpec):
        datasets = _serving_datasets(spec, reg)
        # A default backbone of another plugin is checked here: its own kit does not know
        # this task. (A backbone of this plugin is checked in its own case.)
        other = _default(spec, "backbone", reg)
        readers: list[tuple[ComponentSpec, type[HandOff]]] = [(spec, model)]
        if other is not None and other.plugin != spec.plugin:
            other_model, other_problem = _reader_model(other, other.load_target())
            if not other_problem:
                readers.append((other, other_model))
        return [
            p
            for reader, reader_model in readers
            for dataset in datasets
            if (p := _missing_fields(reader, reader_model, dataset, spec))
        ]
    # A backbone meets the datasets of the tasks it fits and of those it is the default of.
    tasks = [t for t in reg.components("task") if isinstance(t, TaskSpec)]
    served = [t for t in tasks if t.name in spec.fits or _default(t, "backbone", reg) == spec]
    problems: list[str] = []
    seen: set[str] = set()
    for task in served:
        for dataset in _serving_datasets(task, reg):
            if dataset.qualified_name in seen:
                continue
            seen.add(dataset.qualified_name)
            if p := _missing_fields(spec, model, dataset, task):
                problems.append(p)
    return problems


def _reader_model(spec: ComponentSpec, target: Any) -> tuple[type[HandOff], str]:
    """The hand-off model a task class or backbone factory declares, and the sentence
    saying why its annotation is ignored when it does not resolve ('' when it does).

    ``declared_model`` (what the core reads) takes an annotation it cannot resolve for
    no declaration at all, so a typo or an import kept under ``TYPE_CHECKING`` would
    silently turn the core's check off; the kit resolves the annotation itself first.
    """
    if isinstance(target, type):
        # ltx's own LtxTask annotates ``handoff: HandOff``: only the plugin's classes declare.
        annotated = any(
            "handoff" in vars(c).get("__annotations__", {})
            for c in target.__mro__
            if not c.__module__.startswith("ltx_core.")
        )
        where, obj = f"the annotation 'handoff' of its class {target.__name__}", target
    else:
        try:
            params = list(inspect.signature(target).parameters)
        except (TypeError, ValueError):
            return HandOff, ""
        name = params[1] if len(params) > 1 else ""
        annotated = bool(name) and name in getattr(target, "__annotations__", {})
        where, obj = f"the annotation of '{name}' in its factory", target
    if annotated:
        try:
            typing.get_type_hints(obj)
        except Exception as exc:  # any failure: the core would ignore the declaration
            return HandOff, (
                f"The {_who(spec)} declares what it reads with {where}, but its "
                f"annotations do not resolve at run time ({type(exc).__name__}: {exc}), so "
                f"the core checks no hand-off against it; import what they name outside "
                f"'if TYPE_CHECKING'."
            )
    return declared_model(target), ""


def _provided_model(dataset: ComponentSpec) -> type[HandOff] | None:
    """What a dataset declares it hands off: the return annotation of its ``handoff()``,
    when that is a ``HandOff`` subclass with fields (``None``: it declares nothing)."""
    method = getattr(dataset.load_target(), "handoff", None)
    if not callable(method):
        return None
    try:
        ann = typing.get_type_hints(method).get("return")
    except Exception:  # an annotation that does not resolve declares nothing checkable
        return None
    if isinstance(ann, type) and issubclass(ann, HandOff) and ann is not HandOff:
        return ann
    return None


def _missing_fields(
    reader: ComponentSpec, model: type[HandOff], dataset: ComponentSpec, task: ComponentSpec
) -> str:
    """The sentence for the fields ``reader`` requires that ``dataset`` does not declare
    ('' when it declares them all, or declares nothing to compare)."""
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    provided = _provided_model(dataset) if required else None
    if provided is None:
        return ""
    missing = [n for n in required if n not in provided.model_fields]
    if not missing:
        return ""
    via = "" if reader is task else f" for the task '{task.name}'"
    names = ", ".join(f"'{n}'" for n in missing)
    return (
        f"The {_who(reader)} reads {names} from the hand-off ({model.__name__}), but the "
        f"{_who(dataset)}, registered with it{via}, declares it hands off "
        f"{provided.__name__}, which has no such field."
    )


def check_no_torch_on_listing(plugin: str) -> None:
    """Listing the plugin in a fresh process imports neither torch nor Lightning."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, plugin], capture_output=True, text=True, timeout=300,
        env={**os.environ, "LTX_PLUGINS": plugin},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not result["failed"], f"plugin '{plugin}' failed in a fresh process: {result['failed']}"
    assert result["names"], f"plugin '{plugin}' is not found in a fresh process"
    assert not result["heavy"], f"listing plugin '{plugin}' imports {result['heavy']}"


def check_task_runs(spec: TaskSpec, workdir: Path) -> dict[str, Any]:
    """A short CPU fit / validate / test with the spec's smoke settings, then test and
    predict from the checkpoint alone. Returns the run's ``summary.json``."""
    from ltx_core.config.resolve import resolve_config
    from ltx_core.engine.training import train
    from ltx_core.inference.evaluation import test_checkpoint
    from ltx_core.inference.predict import predict

    run_dir = Path(workdir) / f"conformance-{spec.name}"
    smoke = {**spec.smoke, "output_dir": str(run_dir)}
    flags = {"trainer": {"accelerator": "cpu", "devices": 1, "enable_progress_bar": False}}
    resolved = resolve_config(spec.qualified_name, config_data=smoke, flags=flags)
    train(resolved, overwrite=True)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["global_step"] > 0, f"task '{spec.name}' took no optimizer step"
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    metrics = test_checkpoint(ckpt, accelerator="cpu")
    assert metrics, f"task '{spec.name}': 'ltx test' logged no metric"
    assert all(k.startswith("test_") for k in metrics), f"test metrics {sorted(metrics)}"
    results = predict(ckpt, list(spec.examples), run_dir / "predictions")
    assert results, f"task '{spec.name}': 'ltx predict' returned nothing"
    json.dumps(results, default=str)
    return summary


def conformance_cases(plugin: str) -> list[tuple[str, Callable[[Path], Any]]]:
    """``(id, check(tmp_path))`` pairs, one per component and task, for parametrising."""
    cases: list[tuple[str, Callable[[Path], Any]]] = [
        ("listing-imports-no-torch", lambda _tmp: check_no_torch_on_listing(plugin))
    ]
    for spec in _specs(plugin):
        cases.append((f"{spec.kind}:{spec.name}", partial(_component_case, spec)))
        cases.append((f"registration:{spec.kind}:{spec.name}", partial(_registration_case, spec)))
        if isinstance(spec, TaskSpec):
            cases.append((f"run:{spec.name}", partial(check_task_runs, spec)))
    return cases


def _component_case(spec: ComponentSpec, _tmp: Path) -> None:
    check_component(spec)


def _registration_case(spec: ComponentSpec, _tmp: Path) -> None:
    check_registration(spec)


def check_plugin(plugin: str, workdir: Path, *, run_tasks: bool = True) -> None:
    """Every check of the kit on one plugin; raises AssertionError naming each problem."""
    problems = []
    for case_id, check in conformance_cases(plugin):
        if case_id.startswith("run:") and not run_tasks:
            continue
        try:
            check(Path(workdir))
        except Exception as exc:  # collect them all: one report, every problem
            # A case with several problems says one per line: indented under its case.
            said = str(exc).replace("\n", "\n    ")
            problems.append(f"{case_id}: {type(exc).__name__}: {said}")
    if problems:
        raise AssertionError(f"plugin '{plugin}' fails conformance:\n  " + "\n  ".join(problems))
