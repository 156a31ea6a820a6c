"""``ltx runs`` and ``ltx compare`` on real run directories: the trials of a small sweep
of the demo task, and a copy of one with its summary.json gone (a crashed run)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ltx_core.cli.app import app
from ltx_core.cli.testing import HEAVY, probe_python

from .conftest import demo_registered


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``runs/sweep`` with three finished trials, plus ``runs/crashed`` (no summary)."""
    root = tmp_path_factory.mktemp("runs-cmds")
    (root / "space.yaml").write_text("optimizer.lr: [0.001, 0.05]\nbackbone.hidden: [4, 16]\n")
    args = ["sweep", "demo-classify", "--space", str(root / "space.yaml"), "--trials", "3",
            "--metric", "val_acc", "--direction", "maximize", "--pruner", "none",
            "--sampler", "grid", "-o", str(root / "runs" / "sweep"), "--max-steps", "15",
            "trainer.tensorboard=false"]  # fmt: skip
    with demo_registered():
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    crashed = root / "runs" / "crashed"
    shutil.copytree(root / "runs" / "sweep" / "trials" / "0", crashed)
    (crashed / "summary.json").unlink()
    yield root / "runs"


def _table(output: str) -> list[list[str]]:
    return [line.split() for line in output.strip().splitlines()]


def test_runs_table(runs_dir: Path, ltx_cli) -> None:
    result = ltx_cli("runs", str(runs_dir))
    assert result.exit_code == 0, result.output
    lines = _table(result.output)
    header = lines[0]
    assert header[:4] == ["name", "task", "dataset", "backbone"]
    assert header[-3:] == ["steps", "wall_s", "status"] and "val_acc" in header
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in lines[2:]}
    assert set(rows) == {"crashed", "sweep/trials/0", "sweep/trials/1", "sweep/trials/2"}
    assert rows["sweep/trials/1"]["task"] == "demo-classify"
    assert rows["sweep/trials/1"]["backbone"] == "demo-mlp"
    assert rows["sweep/trials/1"]["steps"] == "15"
    assert rows["sweep/trials/1"]["status"] == "finished"
    assert rows["crashed"]["status"] == "running/crashed" and rows["crashed"]["steps"] == "-"
    # A run without summary.json shows the last values metrics.csv holds.
    assert rows["crashed"]["val_acc"] != "-"


def test_runs_json_sort_and_filter(runs_dir: Path, ltx_cli) -> None:
    result = ltx_cli("runs", str(runs_dir), "--json", "--sort", "val_acc", "--desc")
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    finished = [r for r in records if r["status"] == "finished"]
    accs = [r["metrics"]["val_acc"] for r in finished]
    assert accs == sorted(accs, reverse=True) and len(accs) == 3
    truth = {
        f"sweep/trials/{n}": json.loads((runs_dir / "sweep/trials" / str(n) / "summary.json")
                                       .read_text())["metrics"]["val_acc"]
        for n in range(3)
    }  # fmt: skip
    assert {r["name"]: r["metrics"]["val_acc"] for r in finished} == truth

    small = ltx_cli("runs", str(runs_dir), "--json", "--filter", "backbone.hidden=4")
    names = {r["name"] for r in json.loads(small.output)}
    hidden = {
        n: "hidden: 4" in (runs_dir / n / "config.yaml").read_text() for n in [*truth, "crashed"]
    }
    assert names == {n for n, h in hidden.items() if h}
    both = ltx_cli("runs", str(runs_dir), "--json", "--filter", "status=finished",
              "--filter", f"val_acc>={min(truth.values())}")  # fmt: skip
    assert {r["name"] for r in json.loads(both.output)} == set(truth)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sort", "val_ac"], "--sort key 'val_ac' is no column, metric or config key"),
        (["--filter", "val_acc"], "--filter takes key=value"),
        (["--filter", "task>3"], "is not a number"),
    ],
)
def test_runs_mistakes_exit_2(runs_dir: Path, ltx_cli, args: list[str], message: str) -> None:
    result = ltx_cli("runs", str(runs_dir), *args)
    assert result.exit_code == 2 and message in result.stderr, result.output
    missing = ltx_cli("runs", str(runs_dir / "nope"))
    assert missing.exit_code == 2 and "is not a folder of runs" in missing.stderr


def test_compare_two_trials(runs_dir: Path, ltx_cli, tmp_path: Path) -> None:
    a, b = runs_dir / "sweep/trials/0", runs_dir / "sweep/trials/2"
    png = tmp_path / "cmp.png"
    result = ltx_cli("compare", str(a), str(b), "--output", str(png))
    assert result.exit_code == 0, result.output
    text = result.output
    diff_block = text.split("Final values:")[0]
    differing = {line.split()[0] for line in diff_block.splitlines()[3:] if line.strip()}
    configs = [yaml.safe_load((p / "config.yaml").read_text()) for p in (a, b)]
    swept = {
        "optimizer.lr": [c["optimizer"]["lr"] for c in configs],
        "backbone.hidden": [c["backbone"]["hidden"] for c in configs],
    }
    # Two points of the grid: exactly the swept keys that differ are listed.
    assert differing == {k for k, (x, y) in swept.items() if x != y} and differing
    assert "output_dir" not in text  # differs between any two runs; not shown
    finals = text.split("Final values:")[1]
    want = json.loads((a / "summary.json").read_text())["metrics"]["test_acc"]
    assert f"{want:.4g}" in finals and "status" in finals
    from matplotlib import image

    pixels = image.imread(png)
    assert pixels.shape[0] > 200 and pixels.shape[1] > 400 and float(pixels.std()) > 0
    # Its own picture may be replaced; a file the user made may not.
    again = ltx_cli("compare", str(a), str(b), "--output", str(png))
    assert again.exit_code == 0, again.output
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"not ltx's")
    refused = ltx_cli("compare", str(a), str(b), "--output", str(mine))
    assert refused.exit_code == 2 and "was not written by ltx compare" in refused.stderr
    assert mine.read_bytes() == b"not ltx's"
    picked = ltx_cli("compare", str(a), str(b), "-o", str(png), "--metric", "val_loss")
    assert picked.exit_code == 0 and "Curves of val_loss:" in picked.output, picked.output
    typo = ltx_cli("compare", str(a), str(b), "-o", str(png), "--metric", "val_los")
    assert typo.exit_code == 2 and "Did you mean 'val_loss'" in typo.stderr
    one = ltx_cli("compare", str(a))
    assert one.exit_code == 2 and "two or more run directories" in one.stderr
    bad = ltx_cli("compare", str(a), str(runs_dir))
    assert bad.exit_code == 2 and "is not a run directory" in bad.stderr


def test_runs_and_compare_stay_torch_free(runs_dir: Path, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from ltx_core.cli.app import app\n"
        "for args in (['runs', sys.argv[1]], ['compare', sys.argv[2], sys.argv[3], '-o',"
        " sys.argv[4]]):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, e.code\n"
    )
    proc = probe_python(
        code, str(runs_dir), str(runs_dir / "sweep/trials/0"), str(runs_dir / "sweep/trials/1"),
        str(tmp_path / "c.png"), watch=(*HEAVY, "optuna"), timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.imported == []
