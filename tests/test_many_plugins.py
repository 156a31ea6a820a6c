"""When several authors' plugins meet: names that stay stable after another plugin is
installed, the plugin API version and ``Requires-Dist`` checked before a plugin loads,
unknown hooks noted, and ``ltx doctor`` saying all of it."""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from ltx_core.cli.testing import QUIET, pip_install
from ltx_core.registry import PLUGIN_API, reset_registry
from ltx_core.registry.hookspecs import hookimpl

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "example_plugin"

# A second author's plugin that registers the example plugin's names again (its own code
# would differ; here it reuses the example's implementation to stay small).
CLASH_PLUGIN = '''\
"""Another author's plugin whose names are the example plugin's."""

from ltx_core.registry.hookspecs import hookimpl

LTX_PLUGIN_API = 1


@hookimpl
def register_tasks(register):
    register("toy-classify", target="ltx_toy.task:SumTask", config="ltx_toy.config:SumTaskConfig",
             default_dataset="toy-sequences", default_backbone="toy-encoder")


@hookimpl
def register_datasets(register):
    register("toy-sequences", target="ltx_toy.data:SumData", config="ltx_toy.config:SumDataConfig")


@hookimpl
def register_backbones(register):
    register("toy-encoder", target="ltx_toy.model:build_encoder", config="ltx_toy.config:EncoderConfig")
'''


def _dist(root: Path, name: str, module: str, code: str, requires: str = "ltx-core") -> Path:
    """A one-module distribution ``name`` whose entry point is ``module``."""
    pkg = module.split(".")[0]
    (root / "src" / pkg).mkdir(parents=True)
    (root / "src" / pkg / "__init__.py").write_text('"""A test plugin."""\n')
    (root / "src" / pkg / "plugin.py").write_text(code)
    (root / "pyproject.toml").write_text(
        f'[build-system]\nrequires = ["setuptools>=77"]\nbuild-backend = "setuptools.build_meta"\n'
        f'[project]\nname = "{name}"\nversion = "1.0.0"\ndependencies = ["{requires}"]\n'
        f'[project.entry-points.ltx]\n{name.removeprefix("ltx-")} = "{module}"\n'
        f'[tool.setuptools.packages.find]\nwhere = ["src"]\n'
    )
    return root


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pip_install(EXAMPLE, tmp_path_factory.mktemp("example-site"))


@pytest.fixture(scope="module")
def clash_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = _dist(tmp_path_factory.mktemp("clash"), "ltx-clash", "ltx_clash.plugin", CLASH_PLUGIN)
    return pip_install(src, tmp_path_factory.mktemp("clash-site"))


@pytest.mark.slow
def test_a_plugin_installed_later_breaks_no_existing_run(
    example_site: Path, clash_site: Path, run_ltx: Callable[..., object], tmp_path: Path
) -> None:
    def ltx(*args: str, sites: tuple[Path, ...]) -> object:
        return run_ltx(*args, path=list(sites), cwd=tmp_path, timeout=600)

    one = (example_site,)
    train = ["--accelerator", "cpu", "--max-steps", "2", *QUIET, "dataset.samples=96"]
    done: object = ltx("train", "toy-classify", "-o", "run", *train, sites=one)
    assert done.returncode == 0, done.stderr  # type: ignore[attr-defined]
    config = (tmp_path / "run" / "config.yaml").read_text()
    assert "name: toy:toy-classify" in config and "name: toy:toy-encoder" in config

    both = (example_site, clash_site)
    ckpt = str(tmp_path / "run" / "checkpoints" / "last.ckpt")
    for args in (
        ("test", "--ckpt", ckpt, "--accelerator", "cpu"),
        ("predict", "--ckpt", ckpt, "1 2 3 4 5 6 7 8"),
        ("train", "--config", "run/config.yaml", "-o", "again", "--max-steps", "2"),
        ("train", "--config", "run/config.yaml", "-o", "run", "--resume", "--max-steps", "3"),
        ("train", "toy:toy-classify", "--dataset", "toy-sequences", "-o", "own", *train),
    ):
        proc: object = ltx(*args, sites=both)
        assert proc.returncode == 0, f"{args}: {proc.stderr[-2000:]}"  # type: ignore[attr-defined]
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["global_step"] == 3

    ambiguous: object = ltx("train", "toy-classify", *train, sites=both)
    assert ambiguous.returncode == 2  # type: ignore[attr-defined]
    assert ambiguous.stderr.strip() == (  # type: ignore[attr-defined]
        "Error: The task name 'toy-classify' is registered by more than one plugin; use "
        "'clash:toy-classify' and 'toy:toy-classify'."
    )
    listed: object = ltx("list", sites=both)
    text = " ".join(listed.stdout.split())  # type: ignore[attr-defined]
    assert "toy:toy-encoder" in text and "clash:toy-encoder" in text
    assert "The backbone name 'toy-encoder' is registered by 2 plugins" in text
    doctor: object = ltx("doctor", "--json", sites=both)
    report = json.loads(doctor.stdout)  # type: ignore[attr-defined]
    statuses = {p["plugin"]: p["status"] for p in report["plugins"]}
    assert statuses["toy"] == statuses["clash"] == "clashing"
    assert any("'toy-encoder' is shared" in w for w in report["warnings"])
    assert report["healthy"] is True  # a clash is resolved by plugin:name, not a failure


def _module(**attrs: object) -> types.ModuleType:
    module = types.ModuleType("ltx_probe_plugin")
    module.__dict__.update(attrs)
    return module


@hookimpl
def _tasks(register: Callable[..., None]) -> None:
    register("probe-task", target="x.y:Task", config="x.y:Config")


def test_a_plugin_for_another_api_is_not_loaded(ltx_plugin, ltx_cli, monkeypatch) -> None:
    ltx_plugin(
        "future", _module(LTX_PLUGIN_API=PLUGIN_API + 1, register_tasks=_tasks), "ltx-future", "3.0"
    )
    listed = ltx_cli("plugins", "--json")
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.stdout)
    assert "future" not in [p["plugin"] for p in data["plugins"]]
    (failed,) = data["failed"]
    assert failed["status"] == "incompatible"
    assert failed["error"].startswith(f"written for plugin API {PLUGIN_API + 1}, but ltx-core")
    assert "upgrade ltx-core" in failed["error"]
    assert "probe-task" not in ltx_cli("list").stdout
    monkeypatch.setenv("LTX_STRICT_PLUGINS", "1")
    reset_registry()  # the registry is discovered once per process
    strict = ltx_cli("list")
    assert strict.exit_code == 2 and "LTX_STRICT_PLUGINS is set" in strict.stderr


def test_undeclared_api_loads_with_a_note_and_unknown_hooks_are_noted(ltx_plugin, ltx_cli) -> None:
    @hookimpl
    def register_metrics(register: Callable[..., None]) -> None:  # not a hook of the core
        raise AssertionError("never called")

    ltx_plugin(
        "old", _module(register_tasks=_tasks, register_metrics=register_metrics), "ltx-old", "0.1"
    )
    data = json.loads(ltx_cli("plugins", "--json").stdout)
    (old,) = [p for p in data["plugins"] if p["plugin"] == "old"]
    assert old["api"] is None and old["components"] == ["task:probe-task"]
    assert old["notes"][0].startswith("declares no plugin API version; loaded as written for API 1")
    assert (
        "implements the hook 'register_metrics', which this ltx-core does not have"
        in old["notes"][1]
    )
    text = ltx_cli("plugins").stdout
    assert "Plugin old: implements the hook 'register_metrics'" in " ".join(text.split())


def test_requires_dist_is_checked_before_the_plugin_is_imported(
    tmp_path: Path, run_ltx: Callable[..., object]
) -> None:
    # Importing this module would fail loudly: the requirement check must come first.
    code = 'raise RuntimeError("imported although ltx-core does not fit")\n'
    src = _dist(tmp_path / "src", "ltx-needy", "ltx_needy.plugin", code, requires="ltx-core>=99")
    site = pip_install(src, tmp_path / "site")
    proc: object = run_ltx("plugins", "--json", path=[site])
    failed = json.loads(proc.stdout)["failed"]  # type: ignore[attr-defined]
    assert [f["plugin"] for f in failed] == ["needy"]
    assert failed[0]["status"] == "incompatible"
    assert failed[0]["error"].startswith("requires ltx-core>=99 but ")
    assert "RuntimeError" not in failed[0]["error"]
    doctor: object = run_ltx("doctor", path=[site])
    assert doctor.returncode == 0  # type: ignore[attr-defined]
    assert "needy" in doctor.stdout and "incompatible" in doctor.stdout  # type: ignore[attr-defined]
    strict: object = run_ltx("doctor", "--strict", path=[site])
    assert strict.returncode == 2  # type: ignore[attr-defined]


def test_doctor_json_fields_and_a_broken_plugin(ltx_plugin, ltx_cli) -> None:
    healthy = ltx_cli("doctor", "--json")
    assert healthy.exit_code == 0, healthy.output
    report = json.loads(healthy.stdout)
    assert report["healthy"] is True and report["plugin_api"] == PLUGIN_API
    assert {"python", "platform", "packages", "accelerators", "precision_auto", "plugins",
            "offline", "cache_dir", "problems", "warnings"} <= set(report)  # fmt: skip
    assert {"ltx-core", "torch", "pytorch-lightning", "transformers", "pydantic"} <= set(
        report["packages"]
    )
    assert report["accelerators"]["cpu"]["cores"] >= 1
    assert report["precision_auto"]["cpu"] in ("bf16-mixed", "32-true")
    assert "cuda" not in report["accelerators"]  # not probed: torch not imported

    @hookimpl
    def register_datasets(register: Callable[..., None]) -> None:
        raise ImportError("No module named 'pandas'")

    ltx_plugin(
        "shaky", _module(LTX_PLUGIN_API=1, register_datasets=register_datasets), "ltx-shaky", "0.3"
    )
    broken = ltx_cli("doctor", "--json")
    assert broken.exit_code == 0
    report = json.loads(broken.stdout)
    assert report["healthy"] is False
    (row,) = [p for p in report["plugins"] if p["plugin"] == "shaky"]
    assert row["status"] == "broken" and "No module named 'pandas'" in row["messages"][0]
    assert report["problems"] == [
        "Plugin shaky (ltx-shaky 0.3) failed to load: ImportError: No module named 'pandas'."
    ]
    assert ltx_cli("doctor", "--strict").exit_code == 2
    text = ltx_cli("doctor").stdout
    assert "shaky" in text and "Problems:" in text


def test_doctor_is_torch_free(ltx_probe) -> None:
    probe = ltx_probe("doctor", "--json", watch=("torch", "pytorch_lightning", "transformers"))
    assert probe.imported == [], probe.imported


def test_compatibility_page_commands_run(run_ltx: Callable[..., object], tmp_path: Path) -> None:
    import re
    import shlex

    page = (ROOT / "docs" / "compatibility.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```bash\n(.*?)^```$", page, flags=re.M | re.S)
    commands = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert commands == ["ltx doctor", "ltx doctor --json"]
    for command in commands:
        proc: object = run_ltx(*shlex.split(command)[1:], cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr  # type: ignore[attr-defined]
    assert "LTX_PLUGIN_API = 1" in page and "compatibility.md" in (ROOT / "mkdocs.yml").read_text()
