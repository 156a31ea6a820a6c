"""The four pieces of a task, as protocols (torch-free, for type checkers and docs).

A **Dataset** is a LightningDataModule that also hands the model what it needs
(:meth:`Dataset.model_data_kwargs`). A **Backbone** and a **Tokenizer** are
factories ``(config, info) -> object``: ``info`` is the dataset's hand-off
plus whatever the task asks for. A **Task** is a LightningModule that gets its
backbone built for it, so it never depends on which backbone it gets.
The base classes in :mod:`ltx_core.data` and :mod:`ltx_core.task` implement these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

__all__ = ["Backbone", "Dataset", "Task", "Tokenizer"]


@runtime_checkable
class Dataset(Protocol):
    """A LightningDataModule built from its config model (and a tokenizer, if any)."""

    def prepare_data(self) -> None: ...

    def setup(self, stage: str | None = None) -> None: ...

    def train_dataloader(self) -> Any: ...

    def val_dataloader(self) -> Any: ...

    def model_data_kwargs(self) -> dict[str, Any]:
        """What the model must know: classes, sizes, vocabulary or palette, label names."""
        ...


@runtime_checkable
class Backbone(Protocol):
    """Builds an ``nn.Module`` from its config and the hand-off."""

    def __call__(self, config: Any, info: Mapping[str, Any]) -> Any: ...


@runtime_checkable
class Tokenizer(Protocol):
    """Builds a tokenizer; ``info`` carries the backbone config to share parameters with."""

    def __call__(self, config: Any, info: Mapping[str, Any]) -> Any: ...


@runtime_checkable
class Task(Protocol):
    """A LightningModule holding train / validation / test logic."""

    monitor: str
    monitor_mode: str

    def training_step(self, batch: Any, batch_idx: int) -> Any: ...

    def configure_optimizers(self) -> Any: ...
