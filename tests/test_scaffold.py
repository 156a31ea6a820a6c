"""``ltx new``: the three kinds of plugin it writes (a task family, a dataset or backbone
for another plugin's task, a command) render with names of their own; installed
together, they list, their generated tests pass in one pytest run, the dataset trains
ltx-nlp-hf's text classification and the command reads the run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ltx_core.authoring.scaffold import (
    component_tasks,
    render_command,
    render_component,
    render_plugin,
)
from ltx_core.cli.testing import QUIET, ltx_process_env, pip_install, run_ltx_process

# name -> the arguments of `ltx new` that write it: one plugin of every kind.
KINDS = {
    "acme-sums": ("plugin", "acme-sums"),
    "acme-reviews": ("dataset", "acme-reviews", "--task", "text-classification"),
    "acme-encoder": ("backbone", "acme-encoder", "--task", "text-classification"),
    "acme-report": ("command", "acme-report"),
}
# A fresh process's Hugging Face libraries as the docs tests have them: offline (the
# tiny backbones' tokenizer ships in an installed package) and single-threaded tokenisers.
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def test_refuses_bad_names_and_existing_folders(ltx_cli, tmp_path: Path) -> None:
    bad = ltx_cli("new", "plugin", "Acme Sums")
    assert bad.exit_code == 2 and "not a plugin name" in bad.stderr
    bad_task = ltx_cli("new", "plugin", "acme-sums", "--task", "Sums!")
    assert bad_task.exit_code == 2 and "'Sums!' is not a task name" in bad_task.stderr
    ok = ltx_cli("new", "plugin", "acme-sums")
    assert ok.exit_code == 0, ok.output
    again = ltx_cli("new", "plugin", "acme-sums")
    assert again.exit_code == 2 and "already exists" in again.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ("dataset", "acme-tags", "--task", "token-classification"),
            "'ltx new dataset' has no template for the task 'token-classification' (it has one "
            "for: text-classification); write the plugin by hand as docs/extending-a-task.md "
            "shows.",
        ),
        (
            ("backbone", "acme-net", "--task", "acme-sums"),
            "'ltx new backbone' has no template for the task 'acme-sums'",
        ),
        (("dataset", "acme-reviews"), "Missing option '--task'"),
        (("command", "train"), "'ltx train' is already a command (of plugin 'ltx')"),
        (("command", "Report"), "'Report' is not a command name"),
    ],
)
def test_refusals_are_one_sentence(ltx_cli, args: tuple[str, ...], says: str) -> None:
    done = ltx_cli("new", *args)
    assert done.exit_code == 2, done.output
    assert done.stderr.startswith("Error: ") and says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not any(Path().iterdir())  # nothing written


def _py_files(files: dict[str, str]) -> dict[str, str]:
    return {rel: text for rel, text in files.items() if rel.endswith(".py")}


def test_every_kind_renders_with_names_of_its_own() -> None:
    rendered = {
        "acme-sums": render_plugin("acme-sums"),
        "acme-reviews": render_component("dataset", "acme-reviews", "text-classification"),
        "acme-encoder": render_component("backbone", "acme-encoder", "text-classification"),
        "acme-report": render_command("acme-report"),
    }
    assert component_tasks("dataset") == component_tasks("backbone") == ["text-classification"]
    for name, files in rendered.items():
        package = "ltx_" + name.replace("-", "_")
        # The tests module is named after the package: two plugins never share one.
        tests = [rel for rel in files if rel.startswith("tests/")]
        assert tests == [f"tests/test_{package}.py"], tests
        # Each declares the plugin API and registers through its entry point.
        assert "LTX_PLUGIN_API = 1" in files[f"src/{package}/plugin.py"], name
        assert f'{name} = "{package}.plugin"' in files["pyproject.toml"], name
        # Its tests are written on the core's pytest plugin, with no conftest of their own.
        assert "(ltx_env)" in files[tests[0]] and not any(r.endswith("conftest.py") for r in files)
        for rel, text in _py_files(files).items():
            compile(text, f"{name}/{rel}", "exec")  # every generated module is Python
    # The task family's task is named as the plugin, unless --task names it.
    sums = rendered["acme-sums"]["src/ltx_acme_sums/plugin.py"]
    assert 'register(\n        "acme-sums",\n' in sums and "acme-sums-classify" not in sums
    named = render_plugin("acme-sums", task="acme-classify")["src/ltx_acme_sums/plugin.py"]
    assert 'register(\n        "acme-classify",\n' in named
    # Only the task family's README speaks of integer sums; the others say what they are.
    readmes = {name: " ".join(files["README.md"].split()) for name, files in rendered.items()}
    assert "integer sequences" in readmes["acme-sums"]
    assert not any("integer" in readmes[n] for n in ("acme-reviews", "acme-encoder", "acme-report"))
    assert "record source" in readmes["acme-reviews"]
    reviews_plugin = rendered["acme-reviews"]["src/ltx_acme_reviews/plugin.py"]
    assert 'fits=["text-classification"]' in reviews_plugin
    # The dataset and backbone build on ltx-nlp-hf's public API (package-level names).
    reviews = "".join(_py_files(rendered["acme-reviews"]).values())
    assert "from ltx_nlp_hf.data import TextClassificationDataModule" in reviews
    assert "from ltx_nlp_hf.config import TextClassificationSourceConfig" in reviews
    assert "register_commands" in rendered["acme-report"]["src/ltx_acme_report/plugin.py"]


# -- the four kinds, written by `ltx new`, installed together ------------------------


@pytest.fixture(scope="module")
def scaffolds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(folder, site)``: the four plugins as ``ltx new`` writes them (the real program)
    into ``folder``, each pip-installed (a wheel build) once into ``site``."""
    folder = tmp_path_factory.mktemp("scaffolds")
    site = tmp_path_factory.mktemp("site")
    for name, args in KINDS.items():
        made = run_ltx_process("new", *args, "--dir", str(folder), cwd=folder)
        assert made.returncode == 0, made.stderr
        assert f"Created {folder / ('ltx-' + name)}" in made.stdout
        pip_install(folder / f"ltx-{name}", site)
    return folder, site


@pytest.mark.slow
def test_installed_plugins_list_and_configure(scaffolds: tuple[Path, Path], run_ltx) -> None:
    folder, site = scaffolds
    listed = run_ltx("list", "--json", path=[site], cwd=folder)
    assert listed.returncode == 0, listed.stderr
    comps = {c["name"]: c for c in json.loads(listed.stdout)["components"]}
    task = comps["acme-sums"]  # the task family is named after the plugin
    assert (task["kind"], task["distribution"]) == ("task", "ltx-acme-sums")
    assert {"acme-sums-sequences", "acme-sums-encoder", "acme-sums-encoder-wide"} <= set(comps)
    assert (comps["acme-reviews"]["kind"], comps["acme-reviews"]["distribution"]) == (
        "dataset", "ltx-acme-reviews",
    )  # fmt: skip
    assert comps["acme-encoder"]["kind"] == "backbone"
    plugins = run_ltx("plugins", "--json", path=[site], cwd=folder)
    by_name = {p["plugin"]: p for p in json.loads(plugins.stdout)["plugins"]}
    assert by_name["acme-report"]["commands"] == ["acme-report"]
    assert all(by_name[n]["api"] == 1 for n in KINDS), by_name  # each declares the API
    assert "acme-report" in run_ltx("--help", path=[site], cwd=folder).stdout
    # The configs' own validators: a user's mistake, one sentence, exit 2, no torch needed.
    bad = run_ltx("config", "acme-sums", "backbone.n_head=5", path=[site], cwd=folder)
    assert bad.returncode == 2 and "n_head (5) must divide d_model (32)" in bad.stderr, bad.stderr
    bad = run_ltx(
        "config", "text-classification", "--backbone", "acme-encoder", "backbone.num_heads=3",
        path=[site], cwd=folder,
    )  # fmt: skip
    assert bad.returncode == 2 and "must divide hidden_size (64)" in bad.stderr, bad.stderr


@pytest.mark.slow
def test_generated_tests_pass_together_in_one_pytest_run(scaffolds: tuple[Path, Path]) -> None:
    folder, site = scaffolds
    tests = [str(folder / f"ltx-{name}" / "tests") for name in KINDS]
    # pytest's default import mode, as a user's run has it: same-named test modules of two
    # plugins would be an "import file mismatch" here.
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", *tests],
        capture_output=True, text=True, cwd=folder, timeout=900,
        env=ltx_process_env(OFFLINE, path=[site]),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "import file mismatch" not in proc.stdout
    for name in KINDS:
        module = f"test_ltx_{name.replace('-', '_')}.py::"
        assert module in proc.stdout, f"{module} not collected:\n{proc.stdout[-3000:]}"


@pytest.mark.slow
def test_generated_dataset_trains_and_command_reads_the_run(
    scaffolds: tuple[Path, Path], run_ltx
) -> None:
    folder, site = scaffolds
    # ltx-nlp-hf's task on the generated dataset (its packaged example rows), as a user
    # runs it: the installed program in a fresh process, a tiny backbone, two steps.
    trained = run_ltx(
        "train", "text-classification", "--dataset", "acme-reviews", "--backbone", "tiny-bert",
        "--max-steps", "2", "--accelerator", "cpu", "--output-dir", "run", *QUIET,
        path=[site], cwd=folder, env=OFFLINE,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-3000:]
    summary = json.loads((folder / "run" / "summary.json").read_text())
    assert summary["global_step"] == 2
    config = (folder / "run" / "config.yaml").read_text()
    assert "acme-reviews" in config
    # The generated command, on that run.
    report = run_ltx("acme-report", "run", "--prefix", "test_", path=[site], cwd=folder)
    assert report.returncode == 0, report.stderr
    lines = report.stdout.splitlines()
    assert lines and all(line.startswith("test_") for line in lines), report.stdout
    assert any(line.startswith("test_acc\t") for line in lines)
    missing = run_ltx("acme-report", "nowhere", path=[site], cwd=folder)
    assert missing.returncode == 2 and "holds no summary.json" in missing.stderr
