"""Config models: pydantic only."""

from __future__ import annotations

from pydantic import Field

from ltx_core.configs import DataConfig, LtxConfig, TaskConfig


class BlobConfig(DataConfig):
    """Gaussian blobs."""

    num_classes: int = Field(3, ge=2, description="Number of blobs (classes).")
    num_features: int = Field(4, ge=1, description="Dimensions of each point.")
    samples: int = Field(600, ge=30, description="Points in all splits together.")


class MLPConfig(LtxConfig):
    """The MLP backbone."""

    hidden: int = Field(16, ge=1, description="Hidden units.")
    num_layers: int = Field(2, ge=1, description="Hidden layers.")


class ToyTaskConfig(TaskConfig):
    """The classification task."""

    label_smoothing: float = Field(0.0, ge=0, lt=1, description="Label smoothing.")
