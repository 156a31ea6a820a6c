"""Config resolution: layering, overrides, YAML round trip and sentence-sized errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ltx_core.config.resolve import parse_overrides, resolve_config
from ltx_core.errors import LtxError


def test_overrides_parse_as_yaml() -> None:
    assert parse_overrides(["a.b=3", "a.c=[1, 2]", "d=hello", "e=true", "f=1e-3"]) == {
        "a": {"b": 3, "c": [1, 2]},
        "d": "hello",
        "e": True,
        "f": 1e-3,
    }


@pytest.mark.parametrize("bad", ["novalue", "=3", "a..b=1"])
def test_malformed_override(bad: str) -> None:
    with pytest.raises(LtxError, match="key.path=value"):
        parse_overrides([bad])


def test_layers_in_order(example_plugin: None, tmp_path: Path) -> None:
    # component default d_model=32 < preset (toy-encoder-wide: 64) < file < override < flag
    r = resolve_config("toy-classify", backbone="toy-encoder-wide")
    assert r.config.backbone.d_model == 64
    assert r.config.optimizer.lr == 3e-3  # task default beats the core default (1e-3)
    assert r.config.trainer.max_epochs == 5  # task default
    f = tmp_path / "c.yaml"
    f.write_text("backbone: {d_model: 12}\ntrainer: {max_epochs: 6}\n")
    r = resolve_config("toy-classify", backbone="toy-encoder-wide", config_file=f)
    assert (r.config.backbone.d_model, r.config.trainer.max_epochs) == (12, 6)
    r = resolve_config(
        "toy-classify", config_file=f, overrides=["trainer.max_epochs=7", "backbone.d_model=20"],
        flags={"trainer": {"max_epochs": 8}},
    )  # fmt: skip
    assert (r.config.backbone.d_model, r.config.trainer.max_epochs) == (20, 8)


def test_yaml_round_trip(example_plugin: None, tmp_path: Path) -> None:
    first = resolve_config("toy-classify", backbone="toy-encoder-wide", overrides=["seed=7"])
    f = tmp_path / "config.yaml"
    f.write_text(first.to_yaml())
    again = resolve_config(config_file=f)
    assert again.to_dict() == first.to_dict()
    assert again.specs["backbone"].name == "toy-encoder-wide"


def test_schema_is_json(example_plugin: None) -> None:
    r = resolve_config("toy-classify")
    schema = type(r.config).model_json_schema()
    json.dumps(schema)
    assert "backbone" in schema["properties"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["backbone.d_modl=8"], "Unknown key 'backbone.d_modl' on the command line. Did you mean 'd_model'"),
        (["trainer.max_epochs=abc"], "Bad value 'abc' for 'trainer.max_epochs'"),
        (["optimizer.lr=-1"], "Bad value -1 for 'optimizer.lr'"),
        (["trainer.precision=17"], "Bad value 17 for 'trainer.precision'"),
        (["nonsense=1"], "Unknown key 'nonsense'"),
    ],
)  # fmt: skip
def test_bad_values_name_the_key(example_plugin: None, overrides, message) -> None:
    with pytest.raises(LtxError, match=message.replace("(", r"\(").replace(".", r"\.")):
        resolve_config("toy-classify", overrides=overrides)


def test_unknown_key_in_yaml_names_the_file(example_plugin: None, tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("dataset:\n  num_clases: 4\n")
    with pytest.raises(
        LtxError, match=r"Unknown key 'dataset.num_clases' in .*c.yaml.*'num_classes'"
    ):
        resolve_config("toy-classify", config_file=f)


def test_missing_and_malformed_yaml(tmp_path: Path) -> None:
    with pytest.raises(LtxError, match="does not exist"):
        resolve_config("x", config_file=tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("trainer: {max_epochs: 3\n")
    with pytest.raises(LtxError, match="not valid YAML at line"):
        resolve_config("x", config_file=bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(LtxError, match="must hold a mapping"):
        resolve_config("x", config_file=listy)


def test_component_names_from_file(example_plugin: None, tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump({"task": {"name": "toy-classify"}, "backbone": "toy-encoder-wide"}))
    r = resolve_config(config_file=f)
    assert r.config.backbone.name == "toy:toy-encoder-wide"
    assert r.config.backbone.d_model == 64


def test_dataset_must_fit_task(example_plugin: None) -> None:
    from ltx_core import registry
    from ltx_core.registry.spec import ComponentSpec

    reg = registry.get_registry()
    spec = reg.get("dataset", "toy-sequences")
    object.__setattr__(spec, "fits", ("another-task",))
    try:
        with pytest.raises(LtxError, match="does not fit task 'toy-classify'"):
            resolve_config("toy-classify", registry=reg)
    finally:
        object.__setattr__(spec, "fits", ("toy-classify",))
    assert isinstance(spec, ComponentSpec)


def test_no_task_at_all() -> None:
    with pytest.raises(LtxError, match="No task given"):
        resolve_config()
