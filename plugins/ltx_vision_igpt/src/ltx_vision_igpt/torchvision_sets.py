"""CIFAR-10, MNIST and Fashion-MNIST, read from torchvision's on-disk layout into uint8 tensors.

torchvision is imported when a dataset is read, not with this module.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from ltx_vision_igpt.config import TorchvisionImageConfig
from ltx_vision_igpt.datasets import ImageDataModule, ImageTensorDataset, LoadedImages
from ltx_vision_igpt.downloads import data_root, ensure_files
from ltx_vision_igpt.transforms import PadCropFlip

if TYPE_CHECKING:
    from torchvision.datasets import CIFAR10

__all__ = [
    "CIFAR10DataModule",
    "FashionMNISTDataModule",
    "MNISTDataModule",
    "TorchvisionDataModule",
]


class TorchvisionDataModule(ImageDataModule):
    """A torchvision dataset read from (or downloaded into) ``data_dir`` in torchvision's layout."""

    config: TorchvisionImageConfig
    #: Human name for messages.
    title: ClassVar[str] = ""
    #: Where the files are fetched from (for the reachability check and the message).
    url: ClassVar[str] = ""

    @property
    def root(self) -> Path:
        return data_root(self.config.data_dir)

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
        def fetch() -> None:
            self.make(train=True, download=True)
            self.make(train=False, download=True)

        ensure_files(
            self.expected_files(),
            title=self.title,
            url=self.url,
            root=self.root,
            where=self.where(),
            download=self.config.download,
            timeout=self.config.download_timeout,
            fetch=fetch,
        )

    def prepare_data(self) -> None:
        # Lightning calls this on one process per node: the place to download.
        self._ensure()

    def read(self) -> LoadedImages:
        self._ensure()
        train_ds = self.make(train=True, download=False)
        images, labels = self.arrays(train_ds)
        class_names = [str(c) for c in train_ds.classes]
        del train_ds  # its own copy of the images is no longer needed
        test_images, test_labels = self.arrays(self.make(train=False, download=False))
        return LoadedImages(
            train=ImageTensorDataset(images, labels),
            test=ImageTensorDataset(test_images, test_labels),
            class_names=class_names,
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
        # torchvision stores the (N, C, H, W) rows of the files as an (N, H, W, C) view;
        # transposing back gives the contiguous array itself, without copying 150 MB.
        images = torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2)))
        return images, torch.as_tensor(ds.targets)

    def train_transform(self, loaded: LoadedImages) -> Callable[[Tensor], Tensor] | None:
        # The original's augmentation: 4-pixel reflect-pad random crop and horizontal flip.
        return PadCropFlip(4, reflect=True, flip=True)


class MNISTDataModule(TorchvisionDataModule):
    """MNIST: 60000 + 10000 greyscale handwritten digits of 28x28."""

    dataset_name = "mnist"
    title = "MNIST"
    url = "https://ossci-datasets.s3.amazonaws.com/mnist/"
    #: The class in ``torchvision.datasets`` (also the folder torchvision reads from).
    torchvision_class: ClassVar[str] = "MNIST"
    #: Augmentation: shifts of up to 2 pixels, and mirroring where it keeps the class.
    flip: ClassVar[bool] = False

    def _cls(self) -> Any:
        import torchvision.datasets

        return getattr(torchvision.datasets, self.torchvision_class)

    def expected_files(self) -> list[Path]:
        cls = self._cls()
        raw = self.root / cls.__name__ / "raw"
        return [raw / os.path.splitext(name)[0] for name, _ in cls.resources]

    def make(self, train: bool, download: bool) -> Any:
        return self._cls()(str(self.root), train=train, download=download)

    def arrays(self, ds: Any) -> tuple[Tensor, Tensor]:
        return ds.data.unsqueeze(1).contiguous(), ds.targets.clone()

    def train_transform(self, loaded: LoadedImages) -> Callable[[Tensor], Tensor] | None:
        return PadCropFlip(2, reflect=False, flip=self.flip)


class FashionMNISTDataModule(MNISTDataModule):
    """Fashion-MNIST: 60000 + 10000 greyscale clothing images of 28x28, 10 classes."""

    dataset_name = "fashion-mnist"
    title = "Fashion-MNIST"
    url = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
    torchvision_class = "FashionMNIST"
    flip = True  # a mirrored shirt is a shirt
