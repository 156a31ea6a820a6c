"""Turn component choices, a YAML file, ``key.path=value`` overrides and flags into one
validated run config.

Layers, lowest first: component defaults < spec presets < task defaults <
``--config FILE`` < overrides < dedicated flags. Torch-free.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, create_model

from ltx_core.config.models import UNKNOWN_KEY, RunConfig
from ltx_core.errors import LtxError, did_you_mean
from ltx_core.registry import Registry, get_registry
from ltx_core.registry.spec import ComponentSpec, TaskSpec

__all__ = [
    "ResolvedConfig",
    "deep_merge",
    "load_yaml_file",
    "parse_overrides",
    "resolve_config",
    "run_model",
]

SECTIONS = ("task", "dataset", "backbone", "tokenizer")
_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


@dataclass
class ResolvedConfig:
    """A validated run config and the specs it was built from."""

    config: RunConfig
    specs: dict[str, ComponentSpec | None]

    @property
    def task_spec(self) -> TaskSpec:
        """The task's spec (every resolved config has one)."""
        spec = self.specs["task"]
        assert isinstance(spec, TaskSpec)
        return spec

    def spec_name(self, section: str) -> str:
        """The name of the component in ``section`` ('none' when there is none)."""
        spec = self.specs.get(section)
        return spec.name if spec is not None else "none"

    def to_dict(self) -> dict[str, Any]:
        data = self.config.model_dump(mode="json")
        for section in SECTIONS:
            # The component's name reads best first in its section.
            if isinstance(data.get(section), dict):
                data[section] = {"name": data[section].pop("name"), **data[section]}
        return data

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Merge ``top`` into a copy of ``base``; nested dicts merge, anything else replaces."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_yaml_file(path: str | Path) -> dict[str, Any]:
    """Read a config file; a missing, unreadable or non-mapping file is the user's error."""
    p = Path(path)
    if not p.is_file():
        raise LtxError(f"Config file '{p}' does not exist.")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise LtxError(f"Config file '{p}' is not UTF-8 text.") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "it is not valid YAML"
        raise LtxError(f"Config file '{p}' is not valid YAML{where}: {problem}.") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LtxError(
            f"Config file '{p}' must hold a mapping of keys, not a {type(data).__name__}."
        )
    return data


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["a.b=1", "c=[1, 2]"]`` -> ``{"a": {"b": 1}, "c": [1, 2]}``; values parse as YAML."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise LtxError(
                f"'{item}' is not an override; write key.path=value (e.g. trainer.max_epochs=3)."
            )
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw  # an unparsable scalar is taken as the literal string
        if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
            value = float(value)  # YAML 1.1 reads 1e-3 as a string; people mean a number
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise LtxError(f"Override '{item}' conflicts with an earlier value for '{part}'.")
            node = child
        node[parts[-1]] = value
    return out


def _section_model(spec: ComponentSpec) -> type[BaseModel]:
    """The spec's config model with a ``name`` field fixed to the spec's name."""
    base = spec.load_config()
    if not (isinstance(base, type) and issubclass(base, BaseModel)):
        raise LtxError(
            f"The config model '{spec.config}' of {spec.kind} '{spec.name}' "
            "is not a pydantic model."
        )
    return create_model(
        f"{base.__name__}Section",
        __base__=base,
        __doc__=base.__doc__,
        name=(  # type: ignore[arg-type]  # a Literal of runtime names
            Literal[spec.qualified_name, spec.name],
            Field(
                spec.qualified_name,
                description=f"Which {spec.kind} ({spec.summary or spec.name}), as plugin:name.",
            ),
        ),
    )


def run_model(specs: dict[str, ComponentSpec | None]) -> type[RunConfig]:
    """The pydantic model of a whole run for these components: :class:`RunConfig` with
    each component section typed by its component's config model."""
    fields: dict[str, Any] = {}
    for section in SECTIONS:
        spec = specs.get(section)
        if spec is None:
            fields[section] = (None, Field(None, description=f"No {section}."))
        else:
            fields[section] = (_section_model(spec), Field(description=f"The {section}."))
    return create_model("RunConfig", __base__=RunConfig, **fields)


def _name_in(layer: dict[str, Any], section: str) -> str | None:
    node = layer.get(section)
    if isinstance(node, str):
        return node  # "dataset: cifar10" is accepted as shorthand for dataset.name
    if isinstance(node, dict) and isinstance(node.get("name"), str):
        return node["name"]
    return None


def _normalise(layer: dict[str, Any]) -> dict[str, Any]:
    out = dict(layer)
    for section in SECTIONS:
        if isinstance(out.get(section), str):
            out[section] = {"name": out[section]}
    return out


def resolve_config(
    task: str | None = None,
    *,
    dataset: str | None = None,
    backbone: str | None = None,
    tokenizer: str | None = None,
    config_file: str | Path | None = None,
    config_data: dict[str, Any] | None = None,
    overrides: list[str] | None = None,
    flags: dict[str, Any] | None = None,
    registry: Registry | None = None,
) -> ResolvedConfig:
    """Resolve and validate a run config; every user mistake raises :class:`LtxError`."""
    reg = registry or get_registry()
    file_layer = _normalise(load_yaml_file(config_file)) if config_file else {}
    if config_data:
        # A config tree given in code (e.g. from a checkpoint) sits at the file's layer.
        file_layer = deep_merge(file_layer, _normalise(config_data))
    cli_layer = _normalise(parse_overrides(overrides or []))
    flag_layer = flags or {}
    layers = [("the config file", file_layer), ("the command line", cli_layer)]

    chosen = {"task": task, "dataset": dataset, "backbone": backbone, "tokenizer": tokenizer}
    for section in SECTIONS:
        if chosen[section] is None:
            for _, layer in reversed(layers):
                if (n := _name_in(layer, section)) is not None:
                    chosen[section] = n
                    break
    if chosen["task"] is None:
        raise LtxError("No task given; name one (e.g. 'ltx train igpt') or use --config FILE.")
    task_spec = reg.task(chosen["task"])
    defaults = {
        "dataset": task_spec.default_dataset,
        "backbone": task_spec.default_backbone,
        "tokenizer": task_spec.default_tokenizer,
    }
    # A short name means the task's own plugin's component first: a plugin installed
    # later with a component of the same name cannot change what a run resolves to.
    own = task_spec.plugin or None
    default_specs = {
        s: reg.get(s, n, prefer_plugin=own) if n not in (None, "none", "null") else None
        for s, n in defaults.items()
    }
    specs: dict[str, ComponentSpec | None] = {"task": task_spec}
    for section in ("dataset", "backbone", "tokenizer"):
        name = chosen[section] or defaults[section]
        if name is None or name in ("none", "null"):
            specs[section] = None
            continue
        spec = reg.get(section, name, prefer_plugin=own)
        if spec.fits and task_spec.name not in spec.fits:
            raise LtxError(
                f"The {section} '{spec.name}' does not fit task '{task_spec.name}'; "
                f"it fits {', '.join(spec.fits)}."
            )
        specs[section] = spec

    merged: dict[str, Any] = {}
    for section in SECTIONS:
        picked = specs[section]
        if picked is not None:
            merged[section] = deep_merge(picked.defaults, {"name": picked.qualified_name})
    task_defaults = {k: v for k, v in task_spec.task_defaults.items() if k not in SECTIONS[1:]}
    merged = deep_merge(merged, task_defaults)
    for section in SECTIONS[1:]:
        # Task defaults for a section apply only to the component the task picks by default.
        picked = specs[section]
        if picked is not None and picked is default_specs[section]:
            merged[section] = deep_merge(merged[section], task_spec.task_defaults.get(section, {}))
    for _, layer in layers:
        merged = deep_merge(merged, layer)
    merged = deep_merge(merged, flag_layer)
    _user_limit_wins(merged, [file_layer, cli_layer, flag_layer])
    for section in SECTIONS:
        picked = specs[section]
        if picked is None:
            given = merged.pop(section, None)
            if isinstance(given, dict) and set(given) - {"name"}:
                raise LtxError(
                    f"Task '{task_spec.name}' runs with no {section} here, so "
                    f"'{section}.{next(iter(set(given) - {'name'}))}' cannot be set."
                )
        elif isinstance(merged.get(section), dict):
            # Saved configs (config.yaml, checkpoints) name components by plugin too.
            merged[section]["name"] = picked.qualified_name

    model = run_model(specs)
    try:
        config = model.model_validate(merged)
    except ValidationError as exc:
        raise LtxError(
            _explain(exc, model, [*layers, ("the command line", flag_layer)], config_file)
        ) from None
    return ResolvedConfig(config=config, specs=specs)


def _user_limit_wins(merged: dict[str, Any], user_layers: list[dict[str, Any]]) -> None:
    """A run length the user gives wins over the other limit's default, as in Hugging
    Face's Trainer: ``--max-steps 30`` trains 30 steps even when the task's defaults set
    ``max_epochs: 1`` (Lightning would stop at whichever comes first)."""

    def given(key: str) -> bool:
        return any(
            isinstance(layer.get("trainer"), dict) and key in layer["trainer"]
            for layer in user_layers
        )

    trainer = merged.get("trainer")
    if not isinstance(trainer, dict):
        return
    if given("max_steps") and not given("max_epochs") and trainer.get("max_steps") != -1:
        trainer["max_epochs"] = -1
    elif given("max_epochs") and not given("max_steps") and trainer.get("max_epochs") != -1:
        trainer["max_steps"] = -1


def _model_at(model: type[BaseModel], path: tuple[Any, ...]) -> type[BaseModel] | None:
    for part in path:
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        candidates = [ann, *getattr(ann, "__args__", ())]
        nxt = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if nxt is None:
            return None
        model = nxt
    return model


def _has_path(layer: dict[str, Any], path: tuple[Any, ...]) -> bool:
    node: Any = layer
    for part in path:
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_list or (isinstance(node, dict) and part in node)):
            return False
        node = node[part]
    return True


def _field_path(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """``loc`` cut to the config keys it names: pydantic adds union members (``int``,
    ``list[int]``) after the key, which a user never typed."""
    out: list[Any] = []
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int) and out:
            out.append(part)  # an item of a list of models: its model is still current
            continue
        if current is None or str(part) not in current.model_fields:
            if current is not None and not out:
                out.append(part)
            break
        out.append(part)
        current = _model_at(current, (part,))
    return tuple(out) or loc


def _explain(
    exc: ValidationError,
    model: type[BaseModel],
    layers: list[tuple[str, dict[str, Any]]],
    config_file: str | Path | None,
) -> str:
    """One sentence per problem (at most three), naming the key path and the bad value."""
    sentences = []
    seen: set[tuple[Any, ...]] = set()
    errors = []
    for err in exc.errors():
        # A union reports once per member; the user made one mistake.
        key = tuple(err["loc"]) if err["type"] == "extra_forbidden" else None
        path = key or _field_path(model, tuple(err["loc"]))
        if path not in seen:
            seen.add(path)
            errors.append((path, err))
    for loc, err in errors[:3]:
        dotted = ".".join(str(p) for p in loc)
        source = next((name for name, layer in reversed(layers) if _has_path(layer, loc)), None)
        where = ""
        if source == "the config file":
            where = f" in {config_file}" if config_file else " in the saved config"
        elif source:
            where = " on the command line"
        msg = err["msg"].removeprefix("Value error, ").rstrip(".")
        msg = msg[0].lower() + msg[1:] if msg else msg
        if err["type"] == "extra_forbidden":
            parent = _model_at(model, loc[:-1])
            valid = list(parent.model_fields) if parent else []
            hint = did_you_mean(str(loc[-1]), valid)
            if not hint and valid:
                hint = f" Valid keys: {', '.join(valid)}."
            sentences.append(f"Unknown key '{dotted}'{where}.{hint}")
        elif err["type"] == "missing":
            sentences.append(f"Missing required key '{dotted}'{where}.")
        elif UNKNOWN_KEY in msg:
            extra, _, hint = msg.partition(UNKNOWN_KEY)[2].partition("|")
            hint = hint if hint.endswith(("?", ".")) else hint + "."
            sentences.append(f"Unknown key '{dotted}.{extra}'{where}.{hint}")
        elif _model_at(model, loc) is not None:
            # A check across a whole section: its message names the keys; echoing the
            # section would show keys the user never typed.
            sentences.append(f"Bad '{dotted}' section{where}: {msg}.")
        else:
            sentences.append(
                f"Bad value {_short_value(err.get('input'))} for '{dotted}'{where}: {msg}."
            )
    if len(errors) > 3:
        sentences.append(f"({len(errors) - 3} more problems.)")
    return " ".join(sentences)


def _short_value(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
