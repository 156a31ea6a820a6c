"""The igpt task driven directly through Lightning: every mode, checkpoints, pictures, predict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytorch_lightning as pl
import torch
from ltx_vision_igpt.config import (
    DigitsConfig,
    GPTBackboneConfig,
    IGPTPredictOptions,
    IGPTTaskConfig,
)
from ltx_vision_igpt.data import DigitsDataModule
from ltx_vision_igpt.handoff import ImageData, PixelTokens
from ltx_vision_igpt.model import build
from ltx_vision_igpt.palette import quantize
from ltx_vision_igpt.task import IGPTTask
from PIL import Image
from pydantic import ValidationError

from ltx_core.errors import LtxError
from ltx_core.handoff import Restore
from ltx_core.inference.options import parse_predict_options

TINY = GPTBackboneConfig(n_layer=2, n_head=2, n_embd=16)


@pytest.fixture(scope="module")
def digits(ltx_cache_dir: Path) -> DigitsDataModule:
    cfg = DigitsConfig(batch_size=16, cache_dir=str(ltx_cache_dir / "igpt"))
    dm = DigitsDataModule(cfg)
    dm.prepare_data()
    dm.setup("fit")
    return dm


def make_task(dm: DigitsDataModule, mode: str = "classify", **kw: Any) -> IGPTTask:
    cfg = IGPTTaskConfig(mode=mode, sample_count=2, **kw)  # type: ignore[arg-type]
    data = dm.handoff()
    torch.manual_seed(0)
    backbone = build(TINY, data, request=IGPTTask.backbone_request(cfg))
    return IGPTTask(cfg, backbone=backbone, handoff=data)


def trainer(**kw: Any) -> pl.Trainer:
    args: dict[str, Any] = dict(
        accelerator="cpu",
        max_epochs=1,
        limit_train_batches=2,  # the epoch ends, so validation runs
        limit_val_batches=2,
        limit_test_batches=2,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    args.update(kw)
    return pl.Trainer(**args)


@pytest.fixture(scope="module")
def generative_ckpt(digits: DigitsDataModule, tmp_path_factory: pytest.TempPathFactory) -> Path:
    task = make_task(digits, "generative")
    tr = trainer()
    tr.fit(task, datamodule=digits)
    path = tmp_path_factory.mktemp("ckpt") / "generative.ckpt"
    tr.save_checkpoint(path)
    return path


def test_generative_mode_trains_and_reports_bits_per_dim(digits: DigitsDataModule) -> None:
    task = make_task(digits, "generative")
    assert task.backbone.classifier is None  # no unused head
    assert (task.monitor, task.monitor_mode) == ("val_loss", "min")
    tr = trainer()
    tr.fit(task, datamodule=digits)
    assert tr.global_step == 2
    assert {"val_loss", "val_bpd"} <= set(tr.callback_metrics)
    assert "val_acc" not in tr.callback_metrics
    (result,) = tr.test(task, datamodule=digits, verbose=False)
    assert {"test_loss", "test_bpd"} <= set(result)
    # bits per dimension is the next-pixel loss in bits: an untrained model is near log2(16)
    assert 2.0 < result["test_bpd"] < 5.0
    assert result["test_bpd"] == pytest.approx(
        result["test_loss"] / torch.log(torch.tensor(2.0)).item(), rel=1e-4
    )


def test_classify_mode_trains_the_joint_loss_and_reports_accuracy(
    digits: DigitsDataModule,
) -> None:
    task = make_task(digits, "classify", classifier_weight=2.0)
    assert (task.monitor, task.monitor_mode) == ("val_acc", "max")
    before = task.backbone.classifier.weight.detach().clone()
    tr = trainer()
    tr.fit(task, datamodule=digits)
    assert not torch.equal(before, task.backbone.classifier.weight)
    assert {"val_loss", "val_bpd", "val_acc", "val_clf_loss"} <= set(tr.callback_metrics)
    m = tr.callback_metrics
    joint = m["val_bpd"] * torch.log(torch.tensor(2.0)) + 2.0 * m["val_clf_loss"]
    assert torch.isclose(m["val_loss"], joint, rtol=1e-4)
    (result,) = tr.test(task, datamodule=digits, verbose=False)
    assert {"test_acc", "test_bpd", "test_loss"} <= set(result)
    assert 0.0 <= result["test_acc"] <= 1.0


def test_linear_probe_trains_only_a_linear_classifier_on_frozen_features(
    digits: DigitsDataModule, generative_ckpt: Path
) -> None:
    task = make_task(digits, "linear-probe", probe_checkpoint=str(generative_ckpt), probe_layer=1)
    saved = torch.load(generative_ckpt, map_location="cpu", weights_only=False)["state_dict"]
    assert torch.equal(task.backbone.wte.weight, saved["backbone.wte.weight"])
    frozen = {k: v.clone() for k, v in task.backbone.state_dict().items()}
    probe_before = task.probe.weight.detach().clone()  # type: ignore[union-attr]
    tr = trainer()
    tr.fit(task, datamodule=digits)
    assert all(torch.equal(v, task.backbone.state_dict()[k]) for k, v in frozen.items())
    assert not torch.equal(probe_before, task.probe.weight)  # type: ignore[union-attr]
    (result,) = tr.test(task, datamodule=digits, verbose=False)
    assert {"test_acc", "test_bpd", "test_loss"} <= set(result)


def test_linear_probe_needs_a_matching_checkpoint(
    digits: DigitsDataModule, generative_ckpt: Path, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError, match="probe_checkpoint"):
        IGPTTaskConfig(mode="linear-probe")
    with pytest.raises(LtxError, match="does not exist"):
        make_task(digits, "linear-probe", probe_checkpoint=str(tmp_path / "missing.ckpt"))
    cfg = IGPTTaskConfig(mode="linear-probe", probe_checkpoint=str(generative_ckpt))
    data = digits.handoff()
    wider = build(GPTBackboneConfig(n_layer=2, n_head=2, n_embd=32), data)
    with pytest.raises(LtxError, match="shape"):
        IGPTTask(cfg, backbone=wider, handoff=data)


def test_checkpoint_round_trip_keeps_the_palette_buffer(
    digits: DigitsDataModule, generative_ckpt: Path
) -> None:
    ckpt = torch.load(generative_ckpt, map_location="cpu", weights_only=True)
    assert "palette" in ckpt["state_dict"]
    data = ImageData.model_validate(ckpt["ltx"]["handoff"])
    restore = Restore(str(generative_ckpt), data.as_dict())
    cfg = IGPTTaskConfig(mode="generative")
    task = IGPTTask(cfg, backbone=build(TINY, data, restore=restore), handoff=data, restore=restore)
    task.load_state_dict(ckpt["state_dict"])
    assert torch.equal(task.palette, torch.tensor(digits.handoff().palette))
    assert "palette" in dict(task.named_buffers())
    task.to("meta")  # a buffer follows the module to any device
    assert task.palette.device.type == "meta"


def test_task_quantises_batches_with_its_palette(digits: DigitsDataModule) -> None:
    task = make_task(digits)
    images, labels = next(iter(digits.train_dataloader()))
    tokens = task.tokens(images)
    assert tokens.shape == (16, 64)
    assert torch.equal(tokens, quantize(images, task.palette))
    assert task.batch_stats((images, labels)) == (16, 16 * 64)


def test_task_needs_the_image_hand_off() -> None:
    backbone = build(TINY, PixelTokens(seq_len=4, vocab_size=3))
    with pytest.raises(ValidationError, match="palette"):
        IGPTTask(IGPTTaskConfig(), backbone=backbone, handoff={"seq_len": 4, "vocab_size": 3})


def test_run_end_writes_sample_grids(digits: DigitsDataModule, tmp_path: Path) -> None:
    task = make_task(digits, "generative")
    tr = trainer(limit_train_batches=1)
    tr.fit(task, datamodule=digits)
    task.write_artifacts(tmp_path)
    samples = Image.open(tmp_path / "samples.png")
    completions = Image.open(tmp_path / "completions.png")
    # 8x8 digits are enlarged 8x to 64 px; a grid cell is 64 px plus 2 px of padding.
    assert samples.size[0] % 66 == 2 and samples.size[0] >= 66
    assert completions.size[0] == 2 + (2 + 3) * 66  # original, given half, 3 completions


def _opts(**raw: Any) -> IGPTPredictOptions:
    """Options as ``ltx predict --set key=value`` gives them: strings, validated."""
    return parse_predict_options(IGPTPredictOptions, raw, "igpt")


def test_predict_completes_test_images_and_files(digits: DigitsDataModule, tmp_path: Path) -> None:
    task = make_task(digits, "classify").eval()
    opts = _opts(samples="2", count="3", unconditional="4", temperature="0.8", top_k="5")
    results = task.predict_dataset(digits, tmp_path / "a", opts)
    rows = [r for r in results if "input" in r]
    assert len(rows) == 3 and results[-1] == {"samples": str(tmp_path / "a" / "samples.png")}
    assert all(r["predicted"] in task.class_names and 0 < r["confidence"] <= 1 for r in rows)
    assert all(r["label"] in task.class_names and r["bits_per_dim"] > 0 for r in rows)
    grid = Image.open(rows[0]["completions"])
    assert grid.size == (2 + 4 * 66, 2 + 3 * 66)

    # An image file of another size and colour model is converted to the model's.
    picture = tmp_path / "seven.png"
    Image.new("RGB", (20, 24), (200, 10, 10)).save(picture)
    (row,) = task.predict_batch(task.check_predict_inputs([str(picture)]), _opts())
    assert row["input"] == str(picture) and "label" not in row
    assert row["predicted"] in task.class_names and row["bits_per_dim"] > 0


def test_predict_options_are_checked(digits: DigitsDataModule, tmp_path: Path) -> None:
    task = make_task(digits, "generative")
    with pytest.raises(
        LtxError, match="Unknown predict option 'temp' of the task 'igpt' .known: temperature"
    ):
        _opts(temp="1")
    with pytest.raises(LtxError, match="Did you mean 'temperature'"):
        _opts(temprature="1")
    with pytest.raises(LtxError, match="top_k='many' must be a whole number"):
        _opts(top_k="many")
    with pytest.raises(LtxError, match="samples=-1 is out of range"):
        _opts(samples=-1)
    with pytest.raises(LtxError, match="must be a number"):
        _opts(temperature="hot")
    with pytest.raises(LtxError, match="out of range"):
        _opts(temperature="0")
    with pytest.raises(LtxError, match="does not exist"):
        task.predict_batch(task.check_predict_inputs([str(tmp_path / "nope.png")]), _opts())
