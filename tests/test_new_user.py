"""A new user's first hour, core side (issue: flags that mean what they say, no silent
surprises): run lengths, last.ckpt at every stop, a quiet clean run, a right progress
bar, predict with no inputs, and errors that name what was wrong."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ltx_core import registry


def _ckpt_step(checkpoint: Path) -> int:
    return int(torch.load(checkpoint, weights_only=False)["global_step"])


def test_max_steps_wins_over_task_max_epochs(example_plugin: None, ltx_train) -> None:
    # toy-classify's defaults say max_epochs: 2, which is 24 steps of its data.
    run = ltx_train("toy-classify", "--max-steps", "30")
    assert run.summary()["global_step"] == 30
    assert run.summary()["stopped_by"] == "max_steps"
    assert _ckpt_step(run.checkpoint) == 30


def test_max_epochs_wins_over_task_max_steps(demo_plugin: None, ltx_train) -> None:
    # demo-classify's defaults say max_steps: 6; one epoch of its data is 5 steps of 32.
    summary = ltx_train("demo-classify", "--max-epochs", "3").summary()
    assert summary["epochs"] == 3 and summary["global_step"] == 15
    assert summary["stopped_by"] == "max_epochs"


def test_config_shows_the_run_length(example_plugin: None, ltx_cli) -> None:
    result = ltx_cli("config", "toy-classify", "--max-steps", "30")
    assert result.exit_code == 0, result.output
    assert "max_steps: 30" in result.output and "max_epochs: -1" in result.output


def test_last_ckpt_without_any_validation(example_plugin: None, ltx_train) -> None:
    run = ltx_train("toy-classify", "--max-steps", "5", "trainer.val_check_interval=1000",
                    "trainer.check_val_every_n_epoch=null")  # fmt: skip
    assert _ckpt_step(run.checkpoint) == 5
    assert run.summary()["checkpoints"]["last"]


def test_last_ckpt_holds_the_final_step(example_plugin: None, ltx_train) -> None:
    run = ltx_train("toy-classify", "--max-steps", "5", "trainer.val_check_interval=2",
                    "trainer.check_val_every_n_epoch=null")  # fmt: skip
    assert run.summary()["global_step"] == 5 and _ckpt_step(run.checkpoint) == 5
    assert not list((run.dir / "checkpoints").glob("*.tmp"))


def test_clean_run_prints_no_lightning_noise(
    installed_example: Path, tmp_path: Path, run_ltx
) -> None:
    proc = run_ltx(
        "train", "toy-classify", "--max-steps", "3", "--accelerator", "cpu",
        "-o", str(tmp_path / "run"), "trainer.val_check_interval=1000",
        "trainer.check_val_every_n_epoch=null", path=[installed_example], cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    both = proc.stdout + proc.stderr
    for noise in ("exists and is not empty", "ModelCheckpoint(monitor", "GPU available",
                  "TPU available", "Tip:", "litlogger", "litmodels", "/-2"):  # fmt: skip
        assert noise not in both, noise
    verbose = run_ltx(
        "train", "toy-classify", "--max-steps", "1", "--accelerator", "cpu", "--verbose",
        "-o", str(tmp_path / "run2"), path=[installed_example], cwd=tmp_path,
    )  # fmt: skip
    assert verbose.returncode == 0 and "GPU available" in verbose.stdout + verbose.stderr


def test_progress_bar_total_is_the_steps_left(example_plugin: None, tmp_path) -> None:
    import pytorch_lightning as pl

    from ltx_core.config.resolve import resolve_config
    from ltx_core.engine.build import build_datamodule, build_task, dataset_handoff
    from ltx_core.engine.progress import progress_bar

    seen: list[tuple[str, float]] = []

    class Probe(pl.Callback):
        def on_train_batch_end(self, trainer, *_):  # type: ignore[no-untyped-def]
            bar = trainer.progress_bar_callback
            seen.append(
                (bar._get_train_description(trainer.current_epoch), bar.total_train_batches)
            )

    resolved = resolve_config("toy-classify", flags={"trainer": {"max_steps": 5}})
    dm = build_datamodule(resolved)
    dm.setup()
    task = build_task(resolved, dataset_handoff(dm, resolved))
    trainer = pl.Trainer(max_steps=5, max_epochs=-1, callbacks=[progress_bar(), Probe()],
                         logger=False, enable_checkpointing=False, accelerator="cpu",
                         num_sanity_val_steps=0, limit_val_batches=0)  # fmt: skip
    trainer.fit(task, datamodule=dm)
    assert seen and all(total == 5 for _, total in seen), seen
    assert all("-" not in text for text, _ in seen), seen


def test_predict_without_inputs_uses_the_examples(
    example_plugin: None, ltx_shared_run, ltx_cli, tmp_path
) -> None:
    run = ltx_shared_run("toy-classify", "--max-steps", "3", "dataset.samples=96")
    result = ltx_cli("predict", "--ckpt", str(run / "checkpoints" / "last.ckpt"))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [r["input"] for r in rows] == ["1 2 3 4 5 6 7 8", "0 0 1 0 2 0 0 1"]
    assert not (tmp_path / "predictions").exists()  # nothing written, no empty folder


def test_typo_in_a_plugin_module_string_is_named(ltx_cli, tmp_path) -> None:
    class Broken:
        @staticmethod
        def register_datasets(register):  # type: ignore[no-untyped-def]
            register("broken-data", target="ltx_core.data:LtxDataModule",
                     config="ltx_core.confgs:DataConfig")  # fmt: skip

    from ltx_core.registry.hookspecs import hookimpl

    Broken.register_datasets = hookimpl(Broken.register_datasets)
    registry.add_plugin("broken", Broken, "ltx-broken", "1.0")
    try:
        result = ltx_cli("info", "broken-data")
    finally:
        registry.remove_plugin("broken")
    assert result.exit_code == 1, result.output  # the plugin author's bug, not the user's
    msg = " ".join(result.output.split())
    assert "names the module 'ltx_core.confgs' as its config model, which does not exist" in msg
    assert "plugin 'broken' (ltx-broken 1.0)" in msg
    assert "pip install" not in msg


def test_section_error_shows_only_the_wrong_keys(example_plugin: None, ltx_cli) -> None:
    result = ltx_cli("config", "toy-classify", "trainer.max_epochs=-1", "trainer.max_steps=-1")
    assert result.exit_code == 2
    msg = " ".join(result.output.split())
    assert "max_epochs or max_steps" in msg
    assert "accelerator" not in msg and "{" not in msg, msg
    union = ltx_cli("config", "toy-classify", "trainer.devices=[a]")
    assert union.exit_code == 2
    assert union.output.count("trainer.devices") == 1, union.output
