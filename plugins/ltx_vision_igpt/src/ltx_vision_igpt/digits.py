"""scikit-learn's 8x8 handwritten digits, the default dataset: ships with scikit-learn."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from ltx_vision_igpt.config import DigitsConfig
from ltx_vision_igpt.datasets import ImageDataModule, ImageTensorDataset, LoadedImages
from ltx_vision_igpt.transforms import PadCropFlip

__all__ = ["DigitsDataModule"]


class DigitsDataModule(ImageDataModule):
    """scikit-learn's real 8x8 digits: 1797 greyscale images (values 0-16), 10 classes."""

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
