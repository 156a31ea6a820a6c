"""Commands come from plugins, through the ``register_commands`` hook: a third-party
command plugin, really pip-installed, shows in ``ltx --help`` and runs; a broken command
module, a command name another plugin already has, and a missing first-party command
plugin are each one sentence while the rest of ``ltx`` keeps working."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ltx_core.cli.testing import pip_install

PYPROJECT = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "ltx-hello"
version = "1.2.3"
dependencies = ["ltx-core"]

[project.entry-points.ltx]
hello = "ltx_hello.plugin"

[tool.setuptools.packages.find]
where = ["src"]
"""

PLUGIN = '''\
"""Registers three commands: one that works, one whose module is broken, one that clashes."""

from ltx_core.registry.hookspecs import hookimpl


@hookimpl
def register_commands(register):
    register("hello", target="ltx_hello.commands:hello", help="Say hello to someone.")
    register("broken", target="ltx_hello.broken:run", help="A command whose module fails.")
    register("train", target="ltx_hello.commands:hello", help="Not the core's train.")
'''

COMMANDS = '''\
"""The command itself: a Typer function, imported only when it runs."""

from typing import Annotated

import typer

from ltx_core.cli.boundary import error_boundary
from ltx_core.errors import LtxError


@error_boundary
def hello(
    name: Annotated[str, typer.Argument(help="Who to greet.")],
    shout: Annotated[bool, typer.Option("--shout", help="In capitals.")] = False,
) -> None:
    """Say hello to someone."""
    if not name.strip():
        raise LtxError("Give a name to greet.")
    text = f"Hello, {name}!"
    typer.echo(text.upper() if shout else text)
'''

BROKEN = "import ltx_hello_missing_dependency  # not installed: the module cannot import\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The command plugin built and pip-installed into a folder of its own."""
    src = tmp_path_factory.mktemp("ltx-hello")
    pkg = src / "src" / "ltx_hello"
    pkg.mkdir(parents=True)
    (src / "pyproject.toml").write_text(PYPROJECT)
    (pkg / "__init__.py").write_text('"""A command plugin for the tests."""\n')
    (pkg / "plugin.py").write_text(PLUGIN)
    (pkg / "commands.py").write_text(COMMANDS)
    (pkg / "broken.py").write_text(BROKEN)
    return pip_install(src, tmp_path_factory.mktemp("site"))


def test_installed_command_is_listed_and_runs(site: Path, run_ltx) -> None:
    help_ = run_ltx("--help", path=[site])
    assert help_.returncode == 0, help_.stderr
    assert "hello" in help_.stdout and "Say hello to someone." in help_.stdout
    done = run_ltx("hello", "Ada", "--shout", path=[site])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "HELLO, ADA!"
    own_help = run_ltx("hello", "-h", path=[site])
    assert own_help.returncode == 0 and "--shout" in own_help.stdout
    mistake = run_ltx("hello", " ", path=[site])
    assert mistake.returncode == 2 and mistake.stderr.strip() == "Error: Give a name to greet."


def test_plugins_lists_the_command_plugin(site: Path, run_ltx) -> None:
    result = run_ltx("plugins", "--json", path=[site])
    assert result.returncode == 0, result.stderr
    plugins = {p["plugin"]: p for p in json.loads(result.stdout)["plugins"]}
    assert plugins["hello"]["distribution"] == "ltx-hello"
    assert plugins["hello"]["version"] == "1.2.3"
    assert plugins["hello"]["commands"] == ["hello", "broken", "train"]
    assert "train" in plugins["ltx"]["commands"]  # the core's own, through the same hook


def test_broken_command_module_is_one_sentence_and_the_rest_works(site: Path, run_ltx) -> None:
    help_ = run_ltx("--help", path=[site])
    assert help_.returncode == 0 and "broken" in help_.stdout
    result = run_ltx("broken", "--anything", path=[site])
    assert result.returncode == 1  # the plugin author's bug: exit 1, naming the plugin
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) <= 2, result.stderr
    assert "'broken'" in result.stderr and "plugin 'hello' (ltx-hello 1.2.3)" in result.stderr
    assert "ltx_hello_missing_dependency" in result.stderr
    listed = run_ltx("list", "--json", path=[site])
    assert listed.returncode == 0 and json.loads(listed.stdout)["components"]
    assert run_ltx("hello", "Bob", path=[site]).stdout.strip() == "Hello, Bob!"


def test_a_plugin_cannot_take_over_a_core_command(site: Path, run_ltx) -> None:
    result = run_ltx("train", "--help", path=[site])
    assert result.returncode == 0 and "--max-epochs" in result.stdout  # still the core's
    plugins = run_ltx("plugins", path=[site])
    assert "Command 'train' of plugin hello is not used: plugin ltx registers it first." in (
        plugins.stdout.replace("\n", " ")
    )


def test_a_broken_plugin_module_is_reported_and_commands_still_work(
    tmp_path: Path, ltx_cli, ltx_plugin
) -> None:
    import types

    from ltx_core.registry.hookspecs import hookimpl

    module = types.ModuleType("ltx_broken_plugin")

    @hookimpl
    def register_commands(register):
        raise RuntimeError("the plugin's own bug")

    module.register_commands = register_commands  # type: ignore[attr-defined]
    ltx_plugin("broken-plugin", module, "ltx-broken", "0.0.1")
    listed = ltx_cli("plugins", "--json")
    assert listed.exit_code == 0, listed.output
    failed = json.loads(listed.stdout)["failed"]
    assert failed == [
        {
            "plugin": "broken-plugin",
            "distribution": "ltx-broken",
            "version": "0.0.1",
            "error": "RuntimeError: the plugin's own bug",
            "status": "broken",
        }
    ]
    assert ltx_cli("runs", str(tmp_path)).exit_code == 0


@pytest.mark.parametrize(("command", "dist"), [("serve", "ltx-serve"), ("sweep", "ltx-sweep")])
def test_first_party_command_without_its_plugin_names_the_install(
    command: str, dist: str, run_ltx
) -> None:
    # LTX_PLUGINS keeps the other plugins out, as if only the core were installed.
    result = run_ltx(command, "--ckpt", "x.ckpt", env={"LTX_PLUGINS": "none"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"Error: 'ltx {command}' comes with the {dist} plugin; install it: pip install {dist}"
    )


def test_unknown_command_suggests_the_nearest(run_ltx) -> None:
    result = run_ltx("trian", "igpt")
    assert result.returncode == 2
    expected = "Error: No such command 'trian'. Did you mean 'train'? (see 'ltx -h')."
    assert result.stderr.strip() == expected
