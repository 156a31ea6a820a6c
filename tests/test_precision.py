"""bf16 mixed precision for every registered task, and ``--precision auto``.

The registry-wide smoke run of ``test_registered_tasks.py`` again, in ``bf16-mixed``:
training, validation and test (the NLP metrics, igpt's quantisation), then prediction
(igpt's sampling, the NLP generation heads) in bf16 too. ``auto`` stays ``auto`` in the
config and becomes bf16-mixed or 32-true when the run starts, by this machine's flags.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import pytest
import yaml

from ltx_core import registry
from ltx_core.authoring.conformance import check_task_runs
from ltx_core.engine.precision import cpu_has_fast_bf16, resolve_precision

from .conftest import example_registered


def _task_names() -> list[str]:
    with example_registered():
        return [spec.qualified_name for spec in registry.get_registry().components("task")]


@pytest.mark.slow
@pytest.mark.parametrize("task", _task_names())
def test_every_task_trains_tests_and_predicts_in_bf16(
    task: str, example_plugin: None, tmp_path: Path
) -> None:
    from ltx_core.inference.predict import predict_given
    from ltx_core.inference.predictor import Predictor

    spec = registry.get_registry().task(task)
    smoke = dict(spec.smoke)
    smoke["trainer"] = {**smoke.get("trainer", {}), "precision": "bf16-mixed"}
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "error", message=r".*(migration notes|is deprecated;)", category=DeprecationWarning
        )
        summary = check_task_runs(dataclasses.replace(spec, smoke=smoke), tmp_path)
    assert summary["precision"] == "bf16-mixed"
    metrics = summary["metrics"]
    assert metrics and all(v == v for v in metrics.values()), metrics  # no NaN
    ckpt = tmp_path / f"conformance-{spec.name}" / "checkpoints" / "last.ckpt"
    predictor = Predictor.from_checkpoint(
        ckpt, accelerator="cpu", precision="bf16-mixed", out_dir=tmp_path / "bf16-predictions"
    )
    results = predict_given(predictor, list(spec.examples), predictor.parse_options({}))
    assert results, f"task '{spec.name}': bf16 predict returned nothing"
    json.dumps(results, default=str)


def _flags_line() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return line
    return ""


def test_auto_follows_the_cpu_flags(tmp_path: Path) -> None:
    fast = {"amx_bf16", "avx512_bf16"} & set(_flags_line().split())
    expected = "bf16-mixed" if fast else "32-true"
    assert resolve_precision("auto", "cpu") == expected
    assert resolve_precision("16-mixed", "cpu") == "16-mixed"  # only auto is resolved
    assert resolve_precision("auto", "mps") == "32-true"
    with_amx = tmp_path / "amx"
    with_amx.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f amx_bf16 amx_tile\n")
    without = tmp_path / "plain"
    without.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n")
    assert cpu_has_fast_bf16(str(with_amx)) and not cpu_has_fast_bf16(str(without))
    assert not cpu_has_fast_bf16(str(tmp_path / "missing"))


def test_config_shows_auto_unresolved(run_ltx) -> None:
    """Resolution happens when the Trainer is built (``tests/test_mfu.py`` trains with
    ``--precision auto`` and checks what the run recorded); the config keeps ``auto``."""
    shown = run_ltx("config", "igpt", "--precision", "auto")
    assert shown.returncode == 0, shown.stderr
    assert yaml.safe_load(shown.stdout)["trainer"]["precision"] == "auto"


def test_an_unknown_precision_is_a_one_line_error(run_ltx) -> None:
    proc = run_ltx("config", "igpt", "--precision", "bf17")
    assert proc.returncode == 2
    assert "precision" in proc.stderr and "Traceback" not in proc.stderr


def test_trainer_compile_takes_true_or_options_and_compiles_the_backbone_in_place() -> None:
    from torch import nn

    from ltx_core.config.models import CompileConfig, TrainerConfig
    from ltx_core.engine.training import compile_backbone

    assert TrainerConfig().compile is False
    assert TrainerConfig(compile=True).compile is True
    options = TrainerConfig(compile={"mode": "max-autotune", "dynamic": False}).compile
    assert isinstance(options, CompileConfig) and options.mode == "max-autotune"

    class Task(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = nn.Linear(4, 4)

    task = Task()
    compile_backbone(task, options)
    # Compiled lazily, in place: the weights keep their names (checkpoints stay the same).
    assert task.backbone._compiled_call_impl is not None
    assert list(task.state_dict()) == ["backbone.weight", "backbone.bias"]
