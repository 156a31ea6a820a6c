"""Every iGPT dataset in one import: ``from ltx_vision_igpt.data import CIFAR10DataModule``.

Each job lives in its own module: :mod:`~ltx_vision_igpt.datasets` (the base data
module, in-memory images, palette pixels), :mod:`~ltx_vision_igpt.transforms`
(augmentation), :mod:`~ltx_vision_igpt.downloads` (data folders and fetching),
:mod:`~ltx_vision_igpt.digits`, :mod:`~ltx_vision_igpt.torchvision_sets` and
:mod:`~ltx_vision_igpt.image_folder` (the datasets themselves).
"""

from __future__ import annotations

from ltx_vision_igpt.datasets import (
    ImageDataModule,
    ImageTensorDataset,
    LoadedImages,
    Transformed,
    sample_pixels,
)
from ltx_vision_igpt.digits import DigitsDataModule
from ltx_vision_igpt.image_folder import ImageFolderDataModule
from ltx_vision_igpt.torchvision_sets import (
    CIFAR10DataModule,
    FashionMNISTDataModule,
    MNISTDataModule,
    TorchvisionDataModule,
)
from ltx_vision_igpt.transforms import PadCropFlip

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
    "TorchvisionDataModule",
    "Transformed",
    "sample_pixels",
]
