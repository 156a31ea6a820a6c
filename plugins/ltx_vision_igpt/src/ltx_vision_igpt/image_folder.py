"""A folder of class sub-folders of images, resized to one size: ``data_dir/CLASS/*``.

Either ``data_dir/{train,val,test}/CLASS/*`` with the splits given, or
``data_dir/CLASS/*`` split by the config's seed. torchvision reads the files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import Tensor
from torch.utils.data import Dataset

from ltx_core.data import split_train_val
from ltx_core.errors import LtxError
from ltx_vision_igpt.config import ImageFolderConfig
from ltx_vision_igpt.datasets import ImageDataModule, LoadedImages
from ltx_vision_igpt.transforms import PadCropFlip

__all__ = ["ImageFolderDataModule"]


class ImageFolderDataModule(ImageDataModule):
    """Class sub-folders of images: data_dir/{train,val,test}/CLASS/*, or data_dir/CLASS/*."""

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
