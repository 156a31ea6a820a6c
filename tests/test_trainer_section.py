"""The trainer section is Lightning's own: any Trainer argument (checked by name without
importing Lightning), callbacks and loggers by class path, mistakes as one sentence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ltx_core.cli.app import app

QUIET = ["trainer.enable_progress_bar=false", "trainer.tensorboard=false"]


def test_any_lightning_argument_is_accepted(example_plugin: None, runner) -> None:
    result = runner.invoke(
        app, ["config", "toy-classify", "trainer.fast_dev_run=true", "trainer.profiler=simple",
              "trainer.overfit_batches=2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "fast_dev_run: true" in result.output and "profiler: simple" in result.output


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "trainer.max_epoch=3",
            "Unknown key 'trainer.max_epoch' on the command line. Did you mean 'max_epochs'",
        ),
        ("trainer.zzz=1", "neither an argument of Lightning's Trainer nor an ltx setting."),
        ("trainer.logger=false", "'logger' is set by ltx; use trainer.loggers"),
        ("trainer.callbacks=[{init_args: {}}]", "trainer.callbacks.0.class_path"),
    ],
)
def test_trainer_mistakes_exit_2(
    example_plugin: None, runner, override: str, expected: str
) -> None:
    result = runner.invoke(app, ["config", "toy-classify", override])
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split()), result.output


def test_checking_names_imports_no_lightning() -> None:
    code = (
        "import sys; from ltx_core.config.lightning_args import trainer_argument_names as t; "
        "n = t(); print('max_epochs' in n, 'fast_dev_run' in n, 'pytorch_lightning' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True", "False"]


def test_early_stopping_by_config_ends_the_run(
    example_plugin: None, runner, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    stop = (
        "[{class_path: EarlyStopping, init_args: {monitor: val_loss, patience: 1, min_delta: 100}}]"
    )
    result = runner.invoke(
        app, ["train", "toy-classify", "--max-epochs", "20", "-o", str(out), *QUIET,
              f"trainer.callbacks={stop}"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_by"] == "early_stopping"
    assert summary["epochs"] < 20


def test_a_callback_by_module_path_and_a_logger(
    example_plugin: None, runner, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["train", "toy-classify", "--max-steps", "3", "-o", str(out), *QUIET,
              "trainer.callbacks=[{class_path: pytorch_lightning.callbacks.Timer}]",
              f"trainer.loggers=[{{class_path: CSVLogger, init_args: {{save_dir: {tmp_path / 'extra'}}}}}]"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / "metrics.csv").is_file()  # ltx's own CSV logger always stays
    assert list((tmp_path / "extra").rglob("metrics.csv"))


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "trainer.callbacks=[{class_path: EarlyStoping}]",
            "cannot import the callback 'EarlyStoping'",
        ),
        (
            "trainer.callbacks=[{class_path: EarlyStopping, init_args: {bogus: 1}}]",
            "unexpected keyword argument 'bogus'",
        ),
        ("trainer.gradient_clip_algorithm=banana", "refused by Lightning"),
    ],
)
def test_bad_classes_and_values_exit_2(
    example_plugin: None, runner, tmp_path, override, expected
) -> None:
    result = runner.invoke(
        app,
        ["train", "toy-classify", "--max-steps", "1", "-o", str(tmp_path / "r"), *QUIET, override],
    )
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split())


def test_every_typed_field_is_a_trainer_argument_or_an_ltx_setting() -> None:
    from ltx_core.config.lightning_args import trainer_argument_names
    from ltx_core.config.models import TrainerConfig

    names = trainer_argument_names()
    assert names is not None
    ours = set(TrainerConfig.LTX_SETTINGS)
    # Only callbacks shares a name: ltx takes them as {class_path, init_args} (LightningCLI's way).
    assert ours & names == {"callbacks"}
    assert set(TrainerConfig.model_fields) - ours <= names
