"""The trainer section is Lightning's own: any Trainer argument (checked by name without
importing Lightning), callbacks and loggers by class path, mistakes as one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from ltx_core.cli.testing import probe_python


def test_any_lightning_argument_is_accepted(example_plugin: None, ltx_cli) -> None:
    result = ltx_cli("config", "toy-classify", "trainer.fast_dev_run=true",
                     "trainer.profiler=simple", "trainer.overfit_batches=2")  # fmt: skip
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
    example_plugin: None, ltx_cli, override: str, expected: str
) -> None:
    result = ltx_cli("config", "toy-classify", override)
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split()), result.output


def test_checking_names_imports_no_lightning() -> None:
    code = (
        "from ltx_core.config.lightning_args import trainer_argument_names as t; "
        "n = t(); print('max_epochs' in n, 'fast_dev_run' in n)"
    )
    out = probe_python(code, watch=["pytorch_lightning"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"] and out.imported == []


def test_early_stopping_by_config_ends_the_run(example_plugin: None, ltx_train) -> None:
    stop = (
        "[{class_path: EarlyStopping, init_args: {monitor: val_loss, patience: 1, min_delta: 100}}]"
    )
    summary = ltx_train("toy-classify", "--max-epochs", "20", f"trainer.callbacks={stop}").summary()
    assert summary["stopped_by"] == "early_stopping"
    assert summary["epochs"] < 20


def test_a_callback_by_module_path_and_a_logger(
    example_plugin: None, ltx_train, tmp_path: Path
) -> None:
    run = ltx_train(
        "toy-classify", "--max-steps", "3",
        "trainer.callbacks=[{class_path: pytorch_lightning.callbacks.Timer}]",
        f"trainer.loggers=[{{class_path: CSVLogger, init_args: {{save_dir: {tmp_path / 'extra'}}}}}]",
    )  # fmt: skip
    assert (run.dir / "metrics.csv").is_file()  # ltx's own CSV logger always stays
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
def test_bad_classes_and_values_exit_2(example_plugin: None, ltx_train, override, expected) -> None:
    result = ltx_train("toy-classify", "--max-steps", "1", override, output_dir="r", check=False)
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
