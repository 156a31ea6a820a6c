"""The conformance kit for plugin authors: one call checks everything a plugin registers.

For every component: its spec's implementation and config model import; the config
model has a JSON schema, validates its defaults (with the spec's preset) and round-trips
through YAML (field by field where the model has required fields: nothing is invented).
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

import json
import os
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from ltx_core.registry import get_registry
from ltx_core.registry.spec import ComponentSpec, TaskSpec

__all__ = [
    "check_component",
    "check_no_torch_on_listing",
    "check_plugin",
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
        if isinstance(spec, TaskSpec):
            cases.append((f"run:{spec.name}", partial(check_task_runs, spec)))
    return cases


def _component_case(spec: ComponentSpec, _tmp: Path) -> None:
    check_component(spec)


def check_plugin(plugin: str, workdir: Path, *, run_tasks: bool = True) -> None:
    """Every check of the kit on one plugin; raises AssertionError naming each problem."""
    problems = []
    for case_id, check in conformance_cases(plugin):
        if case_id.startswith("run:") and not run_tasks:
            continue
        try:
            check(Path(workdir))
        except Exception as exc:  # collect them all: one report, every problem
            problems.append(f"{case_id}: {type(exc).__name__}: {exc}")
    if problems:
        raise AssertionError(f"plugin '{plugin}' fails conformance:\n  " + "\n  ".join(problems))
