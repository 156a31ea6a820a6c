"""Datasets: the digits hand-off, torchvision layouts read offline, image folders, augmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from ltx_vision_igpt import data as data_mod
from ltx_vision_igpt import downloads
from ltx_vision_igpt.config import (
    DigitsConfig,
    ImageFolderConfig,
    TorchvisionImageConfig,
)
from ltx_vision_igpt.data import (
    CIFAR10DataModule,
    DigitsDataModule,
    FashionMNISTDataModule,
    ImageFolderDataModule,
    MNISTDataModule,
    PadCropFlip,
)
from PIL import Image

from ltx_core.errors import LtxError


def test_digits_hand_off() -> None:
    dm = DigitsDataModule(DigitsConfig())
    dm.prepare_data()
    dm.setup("fit")
    info = dm.handoff().as_dict()
    assert info["num_classes"] == 10
    assert info["image_size"] == [8, 8]
    assert info["channels"] == 1
    assert info["seq_len"] == 64
    assert info["class_names"] == [str(i) for i in range(10)]
    assert info["vocab_size"] == len(info["palette"]) <= 16
    assert all(len(colour) == 1 for colour in info["palette"])
    sizes = {k: len(v) for k, v in dm.splits.items()}
    assert sum(sizes.values()) == 1797
    assert sizes["test"] == 180 and sizes["validation"] == 180
    image, label = dm.splits["train"][0]
    assert image.dtype == torch.uint8 and image.shape == (1, 8, 8)
    assert 0 <= label < 10


def test_digits_splits_are_fixed_and_disjoint() -> None:
    def fingerprints(dm: DigitsDataModule, split: str) -> set[bytes]:
        return {img.numpy().tobytes() for img, _ in dm.splits[split]}

    a, b = DigitsDataModule(DigitsConfig(), seed=1), DigitsDataModule(DigitsConfig(), seed=2)
    # the run seed does not move the split (split_seed does)
    assert fingerprints(a, "test") == fingerprints(b, "test")
    assert not fingerprints(a, "test") & fingerprints(a, "train")


def test_digits_augmentation_only_shifts() -> None:
    torch.manual_seed(0)
    dm = DigitsDataModule(DigitsConfig(augment=True, shift=1))
    plain = DigitsDataModule(DigitsConfig(augment=False))
    for i in range(5):
        aug, label = dm.splits["train"][i]
        img, label2 = plain.splits["train"][i]
        assert label == label2
        shifts = [
            (dy, dx)
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
            if torch.equal(aug, _shift(img, dy, dx))
        ]
        assert shifts, "an augmented digit is its original shifted by at most one pixel"


def _shift(img: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    padded = F.pad(img, (1, 1, 1, 1))
    h, w = img.shape[1:]
    return padded[:, 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]


def test_pad_crop_flip_reflects_like_torch_padding(monkeypatch: pytest.MonkeyPatch) -> None:
    img = torch.arange(3 * 6 * 6, dtype=torch.uint8).view(3, 6, 6)
    aug = PadCropFlip(2, reflect=True, flip=False)
    reference = F.pad(img.float().unsqueeze(0), (2, 2, 2, 2), mode="reflect")[0]
    for _ in range(10):
        out = aug(img)
        crops = [
            reference[:, y : y + 6, x : x + 6].to(torch.uint8) for y in range(5) for x in range(5)
        ]
        assert any(torch.equal(out, c) for c in crops)
    flip = PadCropFlip(0, reflect=True, flip=True)
    seen = {flip(img).numpy().tobytes() for _ in range(30)}
    assert seen == {img.numpy().tobytes(), img.flip(-1).numpy().tobytes()}


def test_cifar10_is_read_from_torchvisions_layout_offline(
    cifar10_dir: tuple[Path, np.ndarray],
) -> None:
    root, first_batch = cifar10_dir
    dm = CIFAR10DataModule(TorchvisionImageConfig(data_dir=str(root), download=False))
    dm.prepare_data()
    dm.setup("fit")
    info = dm.handoff().as_dict()
    assert info["num_classes"] == 10
    assert info["image_size"] == [32, 32] and info["channels"] == 3
    assert info["class_names"][0] == "airplane" and info["class_names"][9] == "truck"
    assert info["vocab_size"] == 16 and len(info["palette"][0]) == 3
    assert len(dm.splits["train"]) + len(dm.splits["validation"]) == 20
    assert len(dm.splits["test"]) == 6
    # CIFAR rows are 1024 red, 1024 green, 1024 blue values in raster order.
    images = dm._loaded.train.images  # type: ignore[union-attr]
    assert torch.equal(images[0], torch.from_numpy(first_batch[0]).view(3, 32, 32))


def test_cifar10_augmentation_is_on_by_default_for_training_only(
    cifar10_dir: tuple[Path, np.ndarray],
) -> None:
    from ltx_core.config.resolve import resolve_config

    cfg = resolve_config("igpt", dataset="cifar10").config.dataset
    assert cfg.augment is True
    dm = CIFAR10DataModule(cfg.model_copy(update={"data_dir": str(cifar10_dir[0])}))
    assert isinstance(dm.splits["train"], data_mod.Transformed)
    assert not isinstance(dm.splits["validation"], data_mod.Transformed)


def test_missing_cifar10_offline_says_where_to_put_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dm = CIFAR10DataModule(TorchvisionImageConfig(data_dir=str(tmp_path), download=False))
    with pytest.raises(LtxError, match="cifar-10-batches-py"):
        dm.prepare_data()
    # With downloads on but no network, it fails fast with the same advice.
    monkeypatch.setattr(downloads, "_reachable", lambda url, timeout=3.0: "no network")
    dm = CIFAR10DataModule(TorchvisionImageConfig(data_dir=str(tmp_path), download=True))
    with pytest.raises(LtxError, match=r"could not be downloaded \(no network\)"):
        dm.setup("fit")


@pytest.mark.parametrize(
    ("cls", "first_class"), [(MNISTDataModule, "0 - zero"), (FashionMNISTDataModule, "T-shirt/top")]
)
def test_mnist_family_is_read_from_torchvisions_raw_files(
    mnist_dir: Path, cls: type, first_class: str
) -> None:
    dm = cls(TorchvisionImageConfig(data_dir=str(mnist_dir), download=False))
    dm.prepare_data()
    info = dm.handoff().as_dict()
    assert info["image_size"] == [28, 28] and info["channels"] == 1
    assert info["num_classes"] == 10 and info["class_names"][0] == first_class
    assert len(dm.splits["train"]) + len(dm.splits["validation"]) == 30
    assert len(dm.splits["test"]) == 10


def _write_folder(root: Path, classes: dict[str, int], size: tuple[int, int] = (12, 10)) -> None:
    rng = np.random.default_rng(0)
    for name, count in classes.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            arr = rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / name / f"{i}.png")


def test_image_folder_single_folder_is_split_by_seed(tmp_path: Path) -> None:
    _write_folder(tmp_path / "pics", {"cat": 10, "dog": 10})
    cfg = ImageFolderConfig(data_dir=str(tmp_path / "pics"), image_size=8, test_fraction=0.2)
    dm = ImageFolderDataModule(cfg)
    info = dm.handoff().as_dict()
    assert info["class_names"] == ["cat", "dog"]
    assert info["image_size"] == [8, 8] and info["channels"] == 3
    assert {k: len(v) for k, v in dm.splits.items()} == {"train": 14, "validation": 2, "test": 4}
    image, _ = dm.splits["test"][0]
    assert image.dtype == torch.uint8 and image.shape == (3, 8, 8)


def test_image_folder_with_train_val_test_and_greyscale(tmp_path: Path) -> None:
    for split in ("train", "val", "test"):
        _write_folder(tmp_path / split, {"a": 3, "b": 2})
    cfg = ImageFolderConfig(data_dir=str(tmp_path), image_size=(6, 4), channels=1)
    dm = ImageFolderDataModule(cfg)
    info = dm.handoff().as_dict()
    assert info["image_size"] == [6, 4] and info["channels"] == 1 and info["seq_len"] == 24
    assert {k: len(v) for k, v in dm.splits.items()} == {"train": 5, "validation": 5, "test": 5}
    assert dm.splits["validation"][0][0].shape == (1, 6, 4)


def test_image_folder_mistakes_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(LtxError, match="does not exist"):
        ImageFolderDataModule(ImageFolderConfig(data_dir=str(tmp_path / "nope"))).setup()
    (tmp_path / "empty").mkdir()
    with pytest.raises(LtxError, match="one sub-folder per class"):
        ImageFolderDataModule(ImageFolderConfig(data_dir=str(tmp_path / "empty"))).setup()
    _write_folder(tmp_path / "mixed" / "train", {"a": 2, "b": 2})
    _write_folder(tmp_path / "mixed" / "test", {"a": 2, "c": 2})
    with pytest.raises(LtxError, match="differ"):
        ImageFolderDataModule(ImageFolderConfig(data_dir=str(tmp_path / "mixed"))).setup()
