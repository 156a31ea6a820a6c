"""``LtxDataModule``: the Lightning data module base every dataset builds on.

It owns the loaders (batch size, workers, pinned memory from config), makes
``setup`` idempotent (the core sets data up once before building the model,
Lightning calls ``setup`` again), and defines the hand-off to the model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.accelerators import CUDAAccelerator
from torch.utils.data import DataLoader, Dataset

from ltx_core.configs import DataConfig

__all__ = ["LtxDataModule", "split_train_val"]

SPLITS = ("train", "validation", "test", "predict")


def split_train_val(dataset: Dataset, val_fraction: float, seed: int) -> tuple[Dataset, Dataset]:
    """Split off a validation set with a fixed seed (the same split in every process)."""
    n = len(dataset)  # type: ignore[arg-type]
    n_val = max(1, round(n * val_fraction))
    gen = torch.Generator().manual_seed(seed)
    train, val = torch.utils.data.random_split(dataset, [n - n_val, n_val], generator=gen)
    return train, val


class LtxDataModule(pl.LightningDataModule):
    """Base data module: subclasses implement :meth:`load_splits` and :meth:`model_data_kwargs`."""

    config_model: type[DataConfig] = DataConfig

    def __init__(self, config: DataConfig, *, tokenizer: Any = None, seed: int = 42) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = tokenizer
        self.seed = seed
        self._splits: dict[str, Dataset] | None = None

    # -- what subclasses write -------------------------------------------
    def load_splits(self) -> dict[str, Dataset]:
        """Return the datasets by split name: ``train``, ``validation``, optionally ``test``."""
        raise NotImplementedError

    def model_data_kwargs(self) -> dict[str, Any]:
        """What the model must know (classes, sizes, vocabulary, label names)."""
        return {}

    def collate_fn(self, split: str) -> Callable[[list[Any]], Any] | None:
        """The batch collator for a split (``None``: PyTorch's default)."""
        return None

    # -- Lightning hooks ---------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        if self._splits is None:
            self._splits = self.load_splits()

    @property
    def splits(self) -> dict[str, Dataset]:
        self.setup()
        assert self._splits is not None
        return self._splits

    @property
    def has_test(self) -> bool:
        return "test" in self.splits

    def _pin(self) -> bool:
        if self.config.pin_memory is not None:
            return self.config.pin_memory
        trainer = getattr(self, "_trainer", None)
        return trainer is not None and isinstance(trainer.accelerator, CUDAAccelerator)

    def loader(self, split: str, *, shuffle: bool = False) -> DataLoader:
        """A DataLoader over ``split`` with the config's loader settings."""
        cfg = self.config
        if split not in self.splits:
            raise KeyError(f"this dataset has no '{split}' split")
        batch = cfg.batch_size if split == "train" else (cfg.eval_batch_size or cfg.batch_size)
        return DataLoader(
            self.splits[split],
            batch_size=batch,
            shuffle=shuffle,
            num_workers=cfg.num_workers,
            pin_memory=self._pin(),
            persistent_workers=cfg.persistent_workers and cfg.num_workers > 0,
            collate_fn=self.collate_fn(split),
        )

    def train_dataloader(self) -> DataLoader:
        return self.loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader | list[Any]:
        return self.loader("validation") if "validation" in self.splits else []

    def test_dataloader(self) -> DataLoader | list[Any]:
        return self.loader("test") if "test" in self.splits else []

    def predict_dataloader(self) -> DataLoader | list[Any]:
        split = "predict" if "predict" in self.splits else "test"
        return self.loader(split) if split in self.splits else []
