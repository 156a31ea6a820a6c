"""Image datasets for the iGPT task: digits, CIFAR-10, MNIST, Fashion-MNIST and image folders.

Every dataset yields ``(image, label)`` with ``image`` a uint8 tensor
``(C, H, W)``: quantisation to the palette happens on the model's device,
so batches cross to the GPU at a quarter of the size of float images.
The data module fits (or reads from cache) the k-means palette on training
pixels and hands the model the image size, channels, classes and palette.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlparse

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from ltx_core.data import LtxDataModule, split_train_val
from ltx_core.errors import LtxError
from ltx_vision_igpt.config import (
    DigitsConfig,
    ImageDataConfig,
    ImageFolderConfig,
    TorchvisionImageConfig,
)
from ltx_vision_igpt.palette import load_or_fit_palette

if TYPE_CHECKING:
    # Only for annotations: torchvision is imported when a dataset is read, not with the module.
    from torchvision.datasets import CIFAR10

__all__ = [
    "CIFAR10DataModule",
    "DigitsDataModule",
    "FashionMNISTDataModule",
    "ImageDataModule",
    "ImageFolderDataModule",
    "ImageTensorDataset",
    "LoadedImages",
    "MNISTDataModule",
    "PadCropFlip",
    "Transformed",
    "sample_pixels",
]

log = logging.getLogger(__name__)


class ImageTensorDataset(Dataset):
    """Images held in memory as one uint8 tensor ``(N, C, H, W)`` with integer labels."""

    def __init__(
        self, images: Tensor, labels: Tensor, transform: Callable[[Tensor], Tensor] | None = None
    ) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError("images must be a uint8 tensor of shape (N, C, H, W)")
        self.images = images
        self.labels = labels.long()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[Tensor, int]:
        img = self.images[i]
        if self.transform is not None:
            img = self.transform(img)
        return img, int(self.labels[i])


class Transformed(Dataset):
    """Applies an image transform on top of another dataset (training augmentation)."""

    def __init__(self, base: Dataset, transform: Callable[[Tensor], Tensor]) -> None:
        self.base = base
        self.transform = transform

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> tuple[Tensor, int]:
        img, label = self.base[i]
        return self.transform(img), label


def _shifted(idx: Tensor, size: int, reflect: bool) -> tuple[Tensor, Tensor]:
    if reflect:  # mirror without repeating the edge, as torch's "reflect" padding
        idx = idx.abs()
        idx = torch.where(idx >= size, 2 * (size - 1) - idx, idx)
        return idx, torch.ones_like(idx, dtype=torch.bool)
    valid = (idx >= 0) & (idx < size)
    return idx.clamp(0, size - 1), valid


class PadCropFlip:
    """Random crop of the image padded by ``pad`` pixels, and optionally a horizontal flip.

    Done by index arithmetic on the uint8 tensor: about 100x faster per image than
    torchvision's transforms, which matters with no loader workers on a small CPU.
    """

    def __init__(self, pad: int, *, reflect: bool = True, flip: bool = True) -> None:
        self.pad = pad
        self.reflect = reflect
        self.flip = flip

    def __call__(self, img: Tensor) -> Tensor:
        _, h, w = img.shape
        dy, dx = torch.randint(0, 2 * self.pad + 1, (2,)).tolist()
        rows, row_ok = _shifted(torch.arange(h) + dy - self.pad, h, self.reflect)
        cols, col_ok = _shifted(torch.arange(w) + dx - self.pad, w, self.reflect)
        if self.flip and bool(torch.rand(()) < 0.5):
            cols, col_ok = cols.flip(0), col_ok.flip(0)
        out = img[:, rows][:, :, cols]
        if not self.reflect:
            out = out * (row_ok[:, None] & col_ok[None, :]).to(out.dtype)
        return out


def sample_pixels(dataset: Dataset, n_pixels: int, seed: int, min_images: int = 1000) -> Tensor:
    """``n_pixels`` pixels (N, C) in [0, 1] drawn from many images of ``dataset``.

    Pixels come from at least ``min_images`` images (or all), so the palette sees
    the variety of the set rather than a few images' worth of neighbours.
    """
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(dataset), generator=gen)  # type: ignore[arg-type]
    first = dataset[int(order[0])][0]
    per_image = first.shape[1] * first.shape[2]
    n_images = min(len(order), max(min_images, math.ceil(n_pixels / per_image)))
    chunks = [dataset[int(i)][0].flatten(1).T for i in order[:n_images]]  # (H*W, C) each
    pixels = torch.cat(chunks)
    if len(pixels) > n_pixels:
        pixels = pixels[torch.randperm(len(pixels), generator=gen)[:n_pixels]]
    return (pixels.float() / 255.0).contiguous()


@dataclass
class LoadedImages:
    """What a dataset reads: splits of ``(uint8 image, label)`` items and their shape."""

    train: Dataset  # without augmentation
    class_names: list[str]
    channels: int
    image_size: tuple[int, int]
    validation: Dataset | None = None  # None: split off train with the config's seed
    test: Dataset | None = None


class ImageDataModule(LtxDataModule):
    """Base of the iGPT datasets: splits, augmentation, palette and the hand-off."""

    # Not a ClassVar: LtxDataModule declares config_model as a plain attribute.
    config_model: type[ImageDataConfig] = ImageDataConfig
    #: Name used for the palette cache.
    dataset_name: ClassVar[str] = "images"
    config: ImageDataConfig

    def __init__(self, config: ImageDataConfig, *, tokenizer: Any = None, seed: int = 42) -> None:
        super().__init__(config, tokenizer=tokenizer, seed=seed)
        self.palette: Tensor | None = None
        self._loaded: LoadedImages | None = None

    # -- what subclasses write -------------------------------------------
    def read(self) -> LoadedImages:
        """Read the images (called once)."""
        raise NotImplementedError

    def train_transform(self, loaded: LoadedImages) -> Callable[[Tensor], Tensor] | None:
        """Augmentation of training images when ``config.augment`` is on."""
        return None

    # -- the base's work -----------------------------------------------------
    def load_splits(self) -> dict[str, Dataset]:
        loaded = self._loaded = self.read()
        train, val = loaded.train, loaded.validation
        if val is None:
            train, val = split_train_val(train, self.config.val_fraction, self.config.split_seed)
        pixels = sample_pixels(train, self.config.palette_samples, self.config.palette_seed)
        self.palette = load_or_fit_palette(
            pixels,
            self.config.palette_size,
            dataset=self.dataset_name,
            seed=self.config.palette_seed,
            cache_dir=self.config.cache_dir,
        )
        transform = self.train_transform(loaded) if self.config.augment else None
        splits: dict[str, Dataset] = {
            "train": Transformed(train, transform) if transform else train,
            "validation": val,
        }
        if loaded.test is not None:
            splits["test"] = loaded.test
        log.info(
            "%s: %s images of %dx%dx%d, %d classes, palette of %d colours",
            self.dataset_name,
            "/".join(str(len(d)) for d in splits.values()),  # type: ignore[arg-type]
            loaded.channels,
            *loaded.image_size,
            len(loaded.class_names),
            len(self.palette),
        )
        return splits

    def model_data_kwargs(self) -> dict[str, Any]:
        self.setup()
        assert self._loaded is not None and self.palette is not None
        h, w = self._loaded.image_size
        return {
            "dataset": self.dataset_name,
            "image_size": [h, w],
            "channels": self._loaded.channels,
            "num_classes": len(self._loaded.class_names),
            "class_names": list(self._loaded.class_names),
            # A plain list: the hand-off is stored in checkpoints and printed as YAML/JSON.
            "palette": self.palette.tolist(),
            "vocab_size": len(self.palette),
            "seq_len": h * w,
        }


# -- scikit-learn digits ------------------------------------------------------


class DigitsDataModule(ImageDataModule):
    """scikit-learn's real 8x8 digits: 1797 greyscale images (values 0-16), 10 classes."""

    config_model = DigitsConfig
    dataset_name = "digits"
    config: DigitsConfig

    def read(self) -> LoadedImages:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        digits = load_digits()
        # 0-16 grey levels -> 0-255, the range every other dataset uses.
        images = torch.from_numpy(np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8))
        images = images.unsqueeze(1)  # (N, 1, 8, 8)
        labels = torch.from_numpy(digits.target)
        idx = np.arange(len(images))
        seed = self.config.split_seed
        # Stratified, so the small test and validation sets hold every digit evenly.
        rest, test = train_test_split(
            idx, test_size=self.config.test_fraction, random_state=seed, stratify=digits.target
        )
        val_share = self.config.val_fraction / (1.0 - self.config.test_fraction)
        train, val = train_test_split(
            rest, test_size=val_share, random_state=seed, stratify=digits.target[rest]
        )

        def part(ix: np.ndarray) -> ImageTensorDataset:
            ix_t = torch.from_numpy(np.sort(ix))
            return ImageTensorDataset(images[ix_t], labels[ix_t])

        return LoadedImages(
            train=part(train),
            validation=part(val),
            test=part(test),
            class_names=[str(i) for i in range(10)],
            channels=1,
            image_size=(8, 8),
        )

    def train_transform(self, loaded: LoadedImages) -> Callable[[Tensor], Tensor] | None:
        # Shifts only: a mirrored 2 or 7 is not a digit.
        return PadCropFlip(self.config.shift, reflect=False, flip=False)


# -- torchvision datasets -------------------------------------------------------


def _data_root(configured: str | None) -> Path:
    if configured:
        return Path(configured).expanduser()
    env = os.environ.get("LTX_DATA_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ltx" / "data"


def _reachable(url: str, timeout: float = 3.0) -> str | None:
    """None if the download host answers; else why not (no network here is common)."""
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{parsed.hostname} is unreachable: {exc}"


class TorchvisionDataModule(ImageDataModule):
    """A torchvision dataset read from (or downloaded into) ``data_dir`` in torchvision's layout."""

    config_model = TorchvisionImageConfig
    config: TorchvisionImageConfig
    #: Human name for messages.
    title: ClassVar[str] = ""
    #: Where the files are fetched from (for the reachability check and the message).
    url: ClassVar[str] = ""

    @property
    def root(self) -> Path:
        return _data_root(self.config.data_dir)

    def expected_files(self) -> list[Path]:
        """The files torchvision reads, so presence is checked without loading anything."""
        raise NotImplementedError

    def make(self, train: bool, download: bool) -> Any:
        """The torchvision dataset object."""
        raise NotImplementedError

    def arrays(self, ds: Any) -> tuple[Tensor, Tensor]:
        """uint8 images (N, C, H, W) and labels (N,) of a torchvision dataset."""
        raise NotImplementedError

    def where(self) -> str:
        """Where the files must end up, for the error message."""
        return str(self.expected_files()[0].parent)

    def _ensure(self) -> None:
        if all(p.is_file() for p in self.expected_files()):
            return
        missing = f"{self.title} is not under {self.root}"
        how = (
            f"download it from {self.url} and unpack it so that {self.where()} holds "
            f"torchvision's files, or set dataset.data_dir to a folder that has them"
        )
        if not self.config.download:
            raise LtxError(f"{missing} and dataset.download is off; {how}.")
        reason = _reachable(self.url)
        if reason is None:
            old = socket.getdefaulttimeout()
            # A stalled connection must fail, not hang a training job forever.
            socket.setdefaulttimeout(self.config.download_timeout)
            try:
                log.info("Downloading %s into %s", self.title, self.root)
                self.root.mkdir(parents=True, exist_ok=True)
                self.make(train=True, download=True)
                self.make(train=False, download=True)
            except Exception as exc:  # network errors come in many types
                reason = f"{type(exc).__name__}: {exc}"
            finally:
                socket.setdefaulttimeout(old)
        if reason is not None or not all(p.is_file() for p in self.expected_files()):
            raise LtxError(f"{missing} and could not be downloaded ({reason}); {how}.")

    def prepare_data(self) -> None:
        # Lightning calls this on one process per node: the place to download.
        self._ensure()

    def read(self) -> LoadedImages:
        self._ensure()
        train_ds = self.make(train=True, download=False)
        test_ds = self.make(train=False, download=False)
        images, labels = self.arrays(train_ds)
        test_images, test_labels = self.arrays(test_ds)
        return LoadedImages(
            train=ImageTensorDataset(images, labels),
            test=ImageTensorDataset(test_images, test_labels),
            class_names=[str(c) for c in train_ds.classes],
            channels=images.shape[1],
            image_size=(images.shape[2], images.shape[3]),
        )


@functools.cache
def _cifar10_class() -> type[CIFAR10]:
    from torchvision.datasets import CIFAR10

    class CIFAR10Files(CIFAR10):
        """torchvision's CIFAR-10 that trusts unpacked batch files as they are.

        torchvision checks every unpacked batch against the official checksums, which
        rejects subsets and test copies; the downloaded archive is still checked.
        """

        train_list = [[name, None] for name, _ in CIFAR10.train_list]
        test_list = [[name, None] for name, _ in CIFAR10.test_list]
        meta = {**CIFAR10.meta, "md5": None}

    return CIFAR10Files


class CIFAR10DataModule(TorchvisionDataModule):
    """CIFAR-10: 50000 + 10000 colour images of 32x32, 10 classes."""

    dataset_name = "cifar10"
    title = "CIFAR-10"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"

    def expected_files(self) -> list[Path]:
        cls = _cifar10_class()
        folder = self.root / cls.base_folder
        names = [n for n, _ in cls.train_list + cls.test_list] + [cls.meta["filename"]]
        return [folder / n for n in names]

    def make(self, train: bool, download: bool) -> Any:
        return _cifar10_class()(str(self.root), train=train, download=download)

    def arrays(self, ds: Any) -> tuple[Tensor, Tensor]:
        images = torch.from_numpy(np.ascontiguousarray(ds.data)).permute(0, 3, 1, 2)  # (N,C,H,W)
        return images.contiguous(), torch.as_tensor(ds.targets)

    def train_transform(self, loaded: LoadedImages) -> Callable[[Tensor], Tensor] | None:
        # The original's augmentation: 4-pixel reflect-pad random crop and horizontal flip.
        return PadCropFlip(4, reflect=True, flip=True)


class MNISTDataModule(TorchvisionDataModule):
    """MNIST: 60000 + 10000 greyscale handwritten digits of 28x28."""

    dataset_name = "mnist"
    title = "MNIST"
    url = "https://ossci-datasets.s3.amazonaws.com/mnist/"

    def _cls(self) -> Any:
        from torchvision.datasets import MNIST

        return MNIST

    def expected_files(self) -> list[Path]:
        cls = self._cls()
        raw = self.root / cls.__name__ / "raw"
        return [raw / os.path.splitext(name)[0] for name, _ in cls.resources]

    def make(self, train: bool, download: bool) -> Any:
        return self._cls()(str(self.root), train=train, download=download)

    def arrays(self, ds: Any) -> tuple[Tensor, Tensor]:
        return ds.data.unsqueeze(1).contiguous(), ds.targets.clone()

    def train_transform(self, loaded: LoadedImages) -> Callable[[Tensor], Tensor] | None:
        return PadCropFlip(2, reflect=False, flip=False)


class FashionMNISTDataModule(MNISTDataModule):
    """Fashion-MNIST: 60000 + 10000 greyscale clothing images of 28x28, 10 classes."""

    dataset_name = "fashion-mnist"
    title = "Fashion-MNIST"
    url = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

    def _cls(self) -> Any:
        from torchvision.datasets import FashionMNIST

        return FashionMNIST

    def train_transform(self, loaded: LoadedImages) -> Callable[[Tensor], Tensor] | None:
        return PadCropFlip(2, reflect=False, flip=True)


# -- folders of images ---------------------------------------------------------


class ImageFolderDataModule(ImageDataModule):
    """Class sub-folders of images: data_dir/{train,val,test}/CLASS/*, or data_dir/CLASS/*."""

    config_model = ImageFolderConfig
    dataset_name = "image-folder"
    config: ImageFolderConfig

    def _size(self) -> tuple[int, int]:
        s = self.config.image_size
        return (s, s) if isinstance(s, int) else (int(s[0]), int(s[1]))

    def _folder(self, path: Path) -> Any:
        from torchvision.datasets import ImageFolder
        from torchvision.transforms import v2

        steps: list[Any] = [v2.Resize(self._size(), antialias=True)]
        if self.config.channels == 1:
            steps.append(v2.Grayscale(1))
        steps.append(v2.PILToTensor())
        try:
            return ImageFolder(str(path), transform=v2.Compose(steps))
        except (FileNotFoundError, OSError) as exc:
            raise LtxError(
                f"'{path}' is not an image folder ({exc}); it needs one sub-folder per class "
                "holding that class's images."
            ) from None

    def read(self) -> LoadedImages:
        if not self.config.data_dir:
            raise LtxError(
                "The image-folder dataset needs dataset.data_dir=FOLDER, a folder of class "
                "sub-folders of images."
            )
        root = Path(self.config.data_dir).expanduser()
        if not root.is_dir():
            raise LtxError(
                f"dataset.data_dir '{root}' does not exist; point it at a folder of class "
                "sub-folders (or with train/, val/ and test/ folders of them)."
            )
        size = self._size()
        if (root / "train").is_dir():
            train = self._folder(root / "train")
            names = list(train.classes)
            extra: dict[str, Dataset | None] = {"validation": None, "test": None}
            for split, folder in (("validation", "val"), ("test", "test")):
                if (root / folder).is_dir():
                    ds = self._folder(root / folder)
                    if list(ds.classes) != names:
                        raise LtxError(
                            f"The class folders of '{root / folder}' ({', '.join(ds.classes)}) "
                            f"differ from those of '{root / 'train'}' ({', '.join(names)})."
                        )
                    extra[split] = ds
            test = extra["test"]
            validation = extra["validation"]
        else:
            everything = self._folder(root)
            names = list(everything.classes)
            test = None
            train = everything
            if self.config.test_fraction > 0:
                train, test = split_train_val(
                    everything, self.config.test_fraction, self.config.split_seed
                )
            validation = None
        return LoadedImages(
            train=train,
            validation=validation,
            test=test,
            class_names=names,
            channels=self.config.channels,
            image_size=size,
        )

    def train_transform(self, loaded: LoadedImages) -> Callable[[Tensor], Tensor] | None:
        h, w = loaded.image_size
        return PadCropFlip(max(1, min(h, w) // 8), reflect=True, flip=True)
