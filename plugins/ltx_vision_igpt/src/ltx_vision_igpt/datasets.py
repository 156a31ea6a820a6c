"""The base of every iGPT dataset: in-memory image sets, palette pixels, splits and hand-off.

Every dataset yields ``(image, label)`` with ``image`` a uint8 tensor
``(C, H, W)``: quantisation to the palette happens on the model's device,
so batches cross to the GPU at a quarter of the size of float images.
:class:`ImageDataModule` fits (or reads from cache) the k-means palette on
training pixels and hands the model the image size, channels, classes and palette.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor
from torch.utils.data import Dataset

from ltx_core.data import LtxDataModule, split_train_val
from ltx_core.sampling import sample_generator
from ltx_vision_igpt.config import ImageDataConfig
from ltx_vision_igpt.handoff import ImageData
from ltx_vision_igpt.palette import load_or_fit_palette

__all__ = ["ImageDataModule", "ImageTensorDataset", "LoadedImages", "Transformed", "sample_pixels"]

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
    """Applies an image transform on top of another dataset (training augmentation).

    A transform that takes a ``generator`` argument (as :class:`PadCropFlip` does) gets one
    decided by ``(seed, epoch, index)``: a run resumed mid-epoch augments exactly as the
    uninterrupted run did, whatever the loader prefetched before the checkpoint.
    """

    def __init__(self, base: Dataset, transform: Callable[..., Tensor], *, seed: int = 0) -> None:
        self.base = base
        self.transform = transform
        self.seed = seed
        try:
            params = inspect.signature(transform).parameters
        except (TypeError, ValueError):  # a builtin or C callable: no generator
            params = {}  # type: ignore[assignment]
        self._takes_generator = "generator" in params

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> tuple[Tensor, int]:
        img, label = self.base[i]
        if self._takes_generator:
            return self.transform(img, generator=sample_generator(i, self.seed)), label
        return self.transform(img), label


def sample_pixels(dataset: Dataset, n_pixels: int, seed: int, min_images: int = 1000) -> Tensor:
    """``n_pixels`` pixels (N, C) in [0, 1] drawn from many images of ``dataset``.

    Pixels come from at least ``min_images`` images (or all), so the palette sees
    the variety of the set rather than a few images' worth of neighbours. Only those
    images are read: the palette's memory does not grow with the dataset.
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
            "train": Transformed(train, transform, seed=self.seed) if transform else train,
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

    def handoff(self) -> ImageData:
        self.setup()
        assert self._loaded is not None and self.palette is not None
        h, w = self._loaded.image_size
        return ImageData(
            dataset=self.dataset_name,
            image_size=[h, w],
            channels=self._loaded.channels,
            num_classes=len(self._loaded.class_names),
            class_names=list(self._loaded.class_names),
            # A plain list: the hand-off is stored in checkpoints and printed as YAML/JSON.
            palette=self.palette.tolist(),
            vocab_size=len(self.palette),
            seq_len=h * w,
        )
