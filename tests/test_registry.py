"""The registry: lazy specs, per-plugin failure boundaries, clashes, LTX_PLUGINS / strict mode."""

from __future__ import annotations

import types

import pytest

from ltx_core import registry
from ltx_core.errors import LtxError
from ltx_core.registry.hookspecs import hookimpl


def _plugin(name: str, task: str = "dup-task", *, fail: bool = False) -> types.SimpleNamespace:
    @hookimpl
    def register_tasks(register):
        if fail:
            raise RuntimeError("boom while registering")
        register(task, target=f"{name}.mod:Task", config=f"{name}.mod:Config", summary=name)

    return types.SimpleNamespace(register_tasks=register_tasks, __name__=name)


@pytest.fixture
def plugins():
    added: list[str] = []

    def add(name: str, obj: object) -> None:
        registry.add_plugin(name, obj, f"dist-{name}", "1.0")
        added.append(name)

    yield add
    for name in added:
        registry.remove_plugin(name)


def test_example_plugin_registers_lazy_specs(example_plugin: None) -> None:
    reg = registry.get_registry()
    spec = reg.get("task", "toy-classify")
    assert spec.target == "ltx_toy.task:SumTask"
    assert spec.plugin == "toy"
    assert (spec.distribution, spec.version) == ("ltx-toy", "0.1.0")
    assert spec.default_dataset == "toy-sequences"
    assert reg.get("backbone", "toy-encoder-wide").defaults == {"d_model": 64}


def test_clashing_names_are_kept_under_plugin_prefix(plugins) -> None:
    plugins("alpha", _plugin("alpha"))
    plugins("beta", _plugin("beta"))
    reg = registry.get_registry()
    assert reg.get("task", "alpha:dup-task").plugin == "alpha"
    assert reg.get("task", "beta:dup-task").plugin == "beta"
    with pytest.raises(LtxError, match="more than one plugin.*alpha:dup-task.*beta:dup-task"):
        reg.get("task", "dup-task")


def test_failing_plugin_is_recorded_and_others_survive(plugins) -> None:
    plugins("good", _plugin("good", "fine-task"))
    plugins("bad", _plugin("bad", "bad-task", fail=True))
    reg = registry.get_registry()
    assert reg.get("task", "fine-task").plugin == "good"
    [failure] = [f for f in reg.failures if f.plugin == "bad"]
    assert "boom while registering" in failure.error
    assert (failure.distribution, failure.version) == ("dist-bad", "1.0")
    with pytest.raises(LtxError, match="Unknown task 'bad-task'"):
        reg.get("task", "bad-task")


def test_strict_mode_turns_failures_into_errors(plugins, monkeypatch) -> None:
    plugins("bad", _plugin("bad", fail=True))
    monkeypatch.setenv("LTX_STRICT_PLUGINS", "1")
    registry.reset_registry()
    with pytest.raises(LtxError, match="Plugin 'bad'.*failed to load"):
        registry.get_registry()


def test_ltx_plugins_restricts_loading(plugins, monkeypatch) -> None:
    plugins("alpha", _plugin("alpha", "a-task"))
    plugins("beta", _plugin("beta", "b-task"))
    monkeypatch.setenv("LTX_PLUGINS", "beta")
    registry.reset_registry()
    reg = registry.get_registry()
    assert [p.plugin for p in reg.plugins] == ["ltx", "beta"]  # the core's own always loads
    assert reg.get("task", "b-task")


def test_invalid_registration_is_the_plugins_failure(plugins) -> None:
    @hookimpl
    def register_tasks(register):
        register("x", target="no-colon", config="m:C")

    plugins("sloppy", types.SimpleNamespace(register_tasks=register_tasks))
    reg = registry.get_registry()
    [failure] = [f for f in reg.failures if f.plugin == "sloppy"]
    assert "package.module:attr" in failure.error


def test_same_name_twice_in_one_plugin_is_a_failure(plugins) -> None:
    @hookimpl
    def register_tasks(register):
        register("x", target="m:T", config="m:C")
        register("x", target="m:T", config="m:C")

    plugins("twice", types.SimpleNamespace(register_tasks=register_tasks))
    assert "twice" in registry.get_registry().failures[-1].error


def test_unknown_name_suggests_nearest(example_plugin: None) -> None:
    with pytest.raises(LtxError, match="Unknown backbone 'toy-encodr'. Did you mean 'toy-encoder'"):
        registry.get_registry().get("backbone", "toy-encodr")


def test_entry_point_scanner_reads_dist_info(tmp_path, monkeypatch) -> None:
    dist = tmp_path / "fake_dist-2.5.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-dist\nVersion: 2.5\n\n")
    (dist / "entry_points.txt").write_text("[console_scripts]\nx = y:z\n\n[ltx]\nfake = fake_mod\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    eps = {ep.name: ep for ep in registry.entry_points()}
    assert eps["fake"].value == "fake_mod"
    assert (eps["fake"].distribution, eps["fake"].version) == ("fake-dist", "2.5")
