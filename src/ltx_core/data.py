"""``LtxDataModule``: the Lightning data module base every dataset builds on.

It owns the loaders (batch size, workers, pinned memory from config), makes
``setup`` idempotent (the core sets data up once before building the model,
Lightning calls ``setup`` again), and writes the hand-off to the model
(:meth:`LtxDataModule.handoff`, see :mod:`ltx_core.handoff`).

A subclass writes :meth:`~LtxDataModule.load_splits` and
:meth:`~LtxDataModule.handoff`, and may override :meth:`~LtxDataModule.collate_fn`
or a ``*_dataloader`` method (building its loader with :meth:`~LtxDataModule.loader`,
which takes a sampler). A dataset whose files have a format of their own teaches
``ltx predict --input`` to read it with the class method
:meth:`~LtxDataModule.predict_records`. The base class keeps its own state in name-mangled
attributes, so a subclass's ``self._splits`` or ``self._cache`` cannot clobber it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ltx_core.config.models import DataConfig
from ltx_core.handoff import HandOff
from ltx_core.sampling import EpochSampler, SkippableSampler

__all__ = ["SPLITS", "LtxDataModule", "split_train_val"]

SPLITS = ("train", "validation", "test", "predict")


def split_train_val(dataset: Dataset, val_fraction: float, seed: int) -> tuple[Dataset, Dataset]:
    """Split off a validation set with a fixed seed (the same split in every process)."""
    n = len(dataset)  # type: ignore[arg-type]
    n_val = max(1, round(n * val_fraction))
    gen = torch.Generator().manual_seed(seed)
    train, val = torch.utils.data.random_split(dataset, [n - n_val, n_val], generator=gen)
    return train, val


class LtxDataModule(pl.LightningDataModule):
    """Base data module: subclasses implement :meth:`load_splits` and :meth:`handoff`.

    Args:
        config: The validated dataset section of the run config.
        tokenizer: The run's tokenizer, if it has one.
        seed: The run's seed (use it for any split or shuffle made here).
    """

    def __init__(self, config: DataConfig, *, tokenizer: Any = None, seed: int = 42) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = tokenizer
        self.seed = seed
        self.__splits: dict[str, Dataset] | None = None

    # -- what subclasses write -------------------------------------------
    def load_splits(self) -> dict[str, Dataset]:
        """Return the datasets by split name: ``train``, ``validation``, optionally ``test``
        and ``predict``. Called once (from :meth:`setup`); the result is kept."""
        raise NotImplementedError

    def handoff(self) -> HandOff | Mapping[str, Any]:
        """What the model must know (classes, sizes, vocabulary or palette, label names).

        Return an instance of a :class:`~ltx_core.handoff.HandOff` subclass that declares
        the fields (a plain JSON-able mapping also works). Only the dataset writes it;
        the core checks it against what the task and backbone declare they read, saves
        it in every checkpoint and compares it with the data a checkpoint meets later.
        May use the splits (``self.splits``), which are loaded by then.
        """
        return HandOff()

    def collate_fn(self, split: str) -> Callable[[list[Any]], Any] | None:
        """The batch collator for a split (``None``: PyTorch's default)."""
        return None

    @classmethod
    def predict_records(cls, source: str, config: DataConfig) -> Iterable[Mapping[str, Any]] | None:
        """The rows of ``ltx predict --input SOURCE`` (a file, folder or glob; ``-``:
        standard input) read in this dataset's format, or ``None`` (the default): the
        task reads the file instead (:meth:`~ltx_core.task.LtxTask.read_predict_file`).

        Each row is a record as this dataset reads one for training, its label columns
        optional; the task turns it into an input
        (:meth:`~ltx_core.task.LtxTask.predict_input_from_record`) and ``--keep-columns``
        picks its columns. ``config`` is the dataset section saved in the checkpoint.
        A class method because prediction builds no data module: reading a row must need
        neither the tokenizer nor the training data. Yield rows lazily: a prediction
        file may be larger than memory.
        """
        return None

    # -- Lightning hooks ---------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        """Load the splits once; later calls (Lightning calls it per stage) do nothing."""
        if self.__splits is None:
            self.__splits = self.load_splits()

    @property
    def splits(self) -> dict[str, Dataset]:
        """The loaded splits by name (loading them on first use)."""
        self.setup()
        assert self.__splits is not None
        return self.__splits

    @property
    def has_test(self) -> bool:
        """Whether there is a test split."""
        return "test" in self.splits

    @property
    def pin_memory(self) -> bool:
        """Pin host memory: the config's choice, else whether the run trains on a GPU."""
        if self.config.pin_memory is not None:
            return self.config.pin_memory
        trainer = self.trainer  # set by Lightning when the module is attached
        return trainer is not None and trainer.strategy.root_device.type == "cuda"

    def loader(
        self,
        split: str,
        *,
        shuffle: bool = False,
        sampler: Sampler[Any] | None = None,
        batch_size: int | None = None,
    ) -> DataLoader:
        """A DataLoader over ``split`` with the config's loader settings.

        Args:
            split: A key of :attr:`splits`.
            shuffle: Shuffle each epoch (ignored when a ``sampler`` is given).
            sampler: Order the examples with this sampler (e.g. length-grouped).
            batch_size: Instead of the config's ``batch_size`` / ``eval_batch_size``.
        """
        cfg = self.config
        if split not in self.splits:
            raise KeyError(f"this dataset has no '{split}' split")
        if batch_size is None:
            batch_size = (
                cfg.batch_size if split == "train" else (cfg.eval_batch_size or cfg.batch_size)
            )
        dataset = self.splits[split]
        if split == "train" and (shuffle or sampler is not None):
            # A training order that a run resumed mid-epoch can repeat and skip into.
            inner = sampler if sampler is not None else EpochSampler(len(dataset), self.seed)  # type: ignore[arg-type]
            sampler = SkippableSampler(inner)
        return DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=shuffle and sampler is None,
            sampler=sampler,
            num_workers=cfg.num_workers,
            pin_memory=self.pin_memory,
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
