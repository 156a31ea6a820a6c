"""The CLI contract of DESIGN.md, driven in-process through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml


def test_list_json_shape(example_plugin: None, ltx_cli) -> None:
    result = ltx_cli("list", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"components", "failed"}
    toy = [c for c in data["components"] if c["name"] == "toy-classify"]
    assert toy and {"name", "kind", "plugin", "version", "summary"} <= set(toy[0])
    assert toy[0]["version"] == "0.1.0"


def test_list_kind_filter_and_table(example_plugin: None, ltx_cli) -> None:
    result = ltx_cli("list", "--kind", "backbone")
    assert result.exit_code == 0, result.output
    assert "toy-encoder-wide" in result.stdout and "toy-classify" not in result.stdout
    bad = ltx_cli("list", "--kind", "backbones")
    assert bad.exit_code == 2
    assert "Did you mean 'backbone'" in bad.stderr


def test_plugins_json(example_plugin: None, ltx_cli) -> None:
    result = ltx_cli("plugins", "--json")
    assert result.exit_code == 0, result.output
    plugins = {p["plugin"]: p for p in json.loads(result.stdout)["plugins"]}
    assert plugins["toy"]["distribution"] == "ltx-toy"
    assert "task:toy-classify" in plugins["toy"]["components"]


def test_info_describes_fields(example_plugin: None, ltx_cli) -> None:
    result = ltx_cli("info", "toy-encoder-wide", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    d_model = next(f for f in data["fields"] if f["name"] == "d_model")
    assert d_model["default"] == 64 and d_model["description"]
    missing = ltx_cli("info", "toy-encoder-wid")
    assert missing.exit_code == 2 and "Did you mean 'toy-encoder-wide'" in missing.stderr


def test_config_round_trip_and_schema(example_plugin: None, ltx_cli, tmp_path: Path) -> None:
    first = ltx_cli("config", "toy-classify", "backbone.d_model=8", "--max-epochs", "3")
    assert first.exit_code == 0, first.output
    tree = yaml.safe_load(first.stdout)
    assert tree["backbone"] == {"name": "toy:toy-encoder", "d_model": 8, "n_head": 4, "n_layer": 2}
    assert tree["trainer"]["max_epochs"] == 3
    (tmp_path / "c.yaml").write_text(first.stdout)
    again = ltx_cli("config", "--config", "c.yaml")
    assert again.exit_code == 0, again.output
    assert yaml.safe_load(again.stdout) == tree
    schema = ltx_cli("config", "toy-classify", "--schema")
    assert schema.exit_code == 0
    assert "properties" in json.loads(schema.stdout)


def test_gpus_flag_maps_to_accelerator(example_plugin: None, ltx_cli) -> None:
    result = ltx_cli("config", "toy-classify", "--gpus", "2")
    assert result.exit_code == 0, result.output
    trainer = yaml.safe_load(result.stdout)["trainer"]
    assert (trainer["accelerator"], trainer["devices"]) == ("gpu", 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "toy-clasify"], "Unknown task 'toy-clasify'. Did you mean 'toy-classify'"),
        (["train", "toy-classify", "--dataset", "blobs"], "Unknown dataset 'blobs'"),
        (["train", "toy-classify", "--backbone", "toy-encoderr"], "Did you mean 'toy-encoder'"),
        (["train", "toy-classify", "backbone.n_layr=3"], "Did you mean 'n_layer'"),
        (["train", "toy-classify", "trainer.max_epochs=many"], "'trainer.max_epochs'"),
        (["train", "toy-classify", "--config", "missing.yaml"], "does not exist"),
        (["train", "toy-classify", "--gpus", "1"], "no CUDA GPU"),
        (["config", "toy-classify", "--devices", "two"], "--devices takes a number"),
        (["test", "--ckpt", "nothing.ckpt"], "does not exist"),
    ],
)
def test_user_mistakes_exit_2_with_one_sentence(
    example_plugin: None, ltx_cli, args, message
) -> None:
    result = ltx_cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) <= 2  # one sentence (may wrap once)


def test_unknown_yaml_key_and_malformed_yaml(example_plugin: None, ltx_cli, tmp_path) -> None:
    (tmp_path / "typo.yaml").write_text("backbone:\n  d_modell: 8\n")
    result = ltx_cli("train", "toy-classify", "--config", "typo.yaml")
    assert result.exit_code == 2 and "Unknown key 'backbone.d_modell' in typo.yaml" in result.stderr
    (tmp_path / "broken.yaml").write_text("backbone: [\n")
    result = ltx_cli("train", "toy-classify", "--config", "broken.yaml")
    assert result.exit_code == 2 and "not valid YAML" in result.stderr


def test_unexpected_errors_exit_1(example_plugin: None, ltx_cli, monkeypatch) -> None:
    import ltx_core.config.request

    def explode(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(ltx_core.config.request, "resolve_config", explode)
    result = ltx_cli("config", "toy-classify")
    assert result.exit_code == 1
    assert "unexpected RuntimeError: kaboom" in result.stderr


def test_shell_completion_of_component_names(example_plugin: None) -> None:
    from ltx_core.cli.options import complete

    assert "toy-classify" in complete("task")("toy")
    assert complete("backbone")("toy-encoder-w") == ["toy-encoder-wide"]
    assert complete("dataset")("zzz") == []
