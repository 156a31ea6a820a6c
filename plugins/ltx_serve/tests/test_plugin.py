"""ltx-serve as a plugin: ``ltx serve`` comes from its entry point, ``ltx --help`` and
the entry-point module import neither torch nor the server's libraries, and the
command's own checks turn a user's mistake into one sentence and exit code 2 before any
server starts. (The server itself, over HTTP, is ``test_serve.py``.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from ltx_core.cli.testing import HEAVY, Probe, probe_python

#: What a torch-free path must not import: the core's heavy list and the server's stack.
WATCH = (*HEAVY, "litserve", "fastapi", "uvicorn", "starlette")


def test_ltx_serve_comes_from_the_plugin(ltx_cli: Callable[..., Any]) -> None:
    result = ltx_cli("plugins", "--json")
    assert result.exit_code == 0, result.output
    ours = [p for p in json.loads(result.stdout)["plugins"] if p["plugin"] == "serve"]
    assert len(ours) == 1, result.stdout
    assert ours[0]["distribution"] == "ltx-serve"
    assert ours[0]["module"] == "ltx_serve.plugin"
    assert ours[0]["commands"] == ["serve"]


def test_help_and_the_entry_point_import_neither_torch_nor_the_server(
    ltx_probe: Callable[..., Probe],
) -> None:
    help_ = ltx_probe("--help", watch=WATCH)
    assert help_.returncode == 0, help_.stderr
    assert "serve" in help_.stdout and "POST /predict" in help_.stdout
    assert help_.imported == []
    # The command's own help reads its Typer signature: the server is imported on run.
    serve_help = ltx_probe("serve", "--help", watch=WATCH)
    assert serve_help.returncode == 0, serve_help.stderr
    assert "--ckpt" in serve_help.stdout and "--max-batch-size" in serve_help.stdout
    assert serve_help.imported == []
    module = probe_python("import ltx_serve.plugin, ltx_serve.command", watch=WATCH)
    assert module.returncode == 0, module.stderr
    assert module.imported == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--ckpt", "missing.ckpt"], "does not exist"),
        (["--ckpt", "missing.ckpt", "--host", "10.1.2.3"], "--host takes"),
        (["--ckpt", "missing.ckpt", "--port", "80"], "--port must be"),
        (["--ckpt", "missing.ckpt", "--max-batch-size", "0"], "--max-batch-size"),
    ],
)
def test_serve_user_mistakes_exit_2_with_one_sentence(
    ltx_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, args: list[str], says: str
) -> None:
    # The command sets it for the processes it forks; here it stays this test's.
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    result = ltx_cli("serve", *args)
    assert result.exit_code == 2, result.output
    assert says in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_mistake_exits_2_from_the_real_entry_point(run_ltx: Callable[..., Any]) -> None:
    done = run_ltx("serve", "--ckpt", "missing.ckpt", "--port", "80", timeout=120)
    assert done.returncode == 2, done.stderr
    assert "--port must be" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
