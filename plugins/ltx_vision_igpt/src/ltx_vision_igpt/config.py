"""Config models of the iGPT task, its datasets and its backbones (pydantic only, torch-free).

``ltx config igpt`` and ``ltx list`` validate these without importing torch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ltx_core.config.models import DataConfig, LtxConfig, TaskConfig

__all__ = [
    "DigitsConfig",
    "GPTBackboneConfig",
    "IGPTPredictOptions",
    "IGPTTaskConfig",
    "ImageDataConfig",
    "ImageFolderConfig",
    "TorchvisionImageConfig",
]

Mode = Literal["generative", "classify", "linear-probe"]


class IGPTTaskConfig(TaskConfig):
    """Image-GPT: next-pixel prediction over palette colours, optionally with a class head."""

    mode: Mode = Field(
        "classify",
        description="generative: next-pixel loss only; classify: next-pixel plus classification "
        "loss (joint, as in the original); linear-probe: a linear classifier on frozen features "
        "of a checkpoint trained with this task.",
    )
    classifier_weight: float = Field(
        1.0, ge=0, description="Weight of the classification loss in the joint loss (classify)."
    )
    probe_checkpoint: str | None = Field(
        None, description="linear-probe: checkpoint of an igpt run whose backbone is frozen."
    )
    probe_layer: int | None = Field(
        None,
        ge=0,
        description="linear-probe: features after this many blocks (default: the middle one, "
        "where the iGPT paper found the best features).",
    )
    sample_count: int = Field(
        16, ge=0, description="Images in the sample grids written at the end of a run (0: none)."
    )
    temperature: float = Field(1.0, gt=0, description="Sampling temperature for the grids.")
    top_k: int | None = Field(
        None, ge=1, description="Sample only among the k likeliest colours (default: all)."
    )

    @model_validator(mode="after")
    def _probe_needs_checkpoint(self) -> IGPTTaskConfig:
        if self.mode == "linear-probe" and not self.probe_checkpoint:
            raise ValueError(
                "mode 'linear-probe' needs task.probe_checkpoint, the path of a checkpoint "
                "trained with the igpt task"
            )
        return self


class GPTBackboneConfig(LtxConfig):
    """Size of the GPT; sequence length and palette size come from the dataset."""

    n_layer: int = Field(4, ge=1, description="Transformer blocks.")
    n_head: int = Field(4, ge=1, description="Attention heads per block.")
    n_embd: int = Field(64, ge=1, description="Width of the residual stream.")
    mlp_ratio: int = Field(4, ge=1, description="MLP hidden width as a multiple of n_embd.")
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout on embeddings and residuals.")
    bias: bool = Field(True, description="Biases in linear layers and LayerNorms (as GPT-2).")
    gradient_checkpointing: bool = Field(
        False,
        description="Recompute each block's activations in the backward pass (activation "
        "checkpointing): less peak memory for about a third more compute.",
    )

    @model_validator(mode="after")
    def _heads_divide_width(self) -> GPTBackboneConfig:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        return self


class ImageDataConfig(DataConfig):
    """What every iGPT dataset shares: the palette and the validation split."""

    palette_size: int = Field(
        16, ge=2, le=4096, description="Colours in the k-means palette (the model's vocabulary)."
    )
    palette_samples: int = Field(
        100_000, ge=1000, description="Training pixels sampled to fit the palette."
    )
    palette_seed: int = Field(
        0,
        description="Seed of the palette fit, kept apart from the run seed so runs, resumed "
        "runs and linear probes quantise alike.",
    )
    cache_dir: str | None = Field(
        None,
        description="Where fitted palettes are cached (default: $LTX_CACHE_DIR/igpt, "
        "else ~/.cache/ltx/igpt).",
    )
    val_fraction: float = Field(
        0.1, gt=0, lt=1, description="Share of the training images held out for validation."
    )
    split_seed: int = Field(
        0, description="Seed of the train/validation split (fixed, so it never leaks)."
    )
    augment: bool = Field(False, description="Augment training images.")


class DigitsConfig(ImageDataConfig):
    """scikit-learn's 8x8 handwritten digits (1797 images), shipped inside scikit-learn."""

    test_fraction: float = Field(
        0.1, gt=0, lt=1, description="Share of the images held out for testing."
    )
    shift: int = Field(1, ge=0, le=3, description="With augment: largest random shift in pixels.")

    @model_validator(mode="after")
    def _fractions(self) -> DigitsConfig:
        if self.val_fraction + self.test_fraction >= 0.9:
            raise ValueError("val_fraction + test_fraction must leave at least 10% for training")
        return self


class TorchvisionImageConfig(ImageDataConfig):
    """A torchvision dataset (CIFAR-10, MNIST, Fashion-MNIST) in torchvision's on-disk layout."""

    data_dir: str | None = Field(
        None,
        description="Folder holding (or receiving) the dataset in torchvision's layout "
        "(default: $LTX_DATA_DIR, else ~/.cache/ltx/data).",
    )
    download: bool = Field(True, description="Try to download the dataset when it is missing.")
    download_timeout: float = Field(
        30.0, gt=0, description="Seconds a stalled download may wait before giving up."
    )


class ImageFolderConfig(ImageDataConfig):
    """A folder of class sub-folders: data_dir/{train,val,test}/CLASS/*.png, or data_dir/CLASS."""

    data_dir: str | None = Field(
        None, description="The image folder (required: there is no default collection of images)."
    )
    image_size: int | tuple[int, int] = Field(
        32, description="Images are resized to this (height, width), or a square of this side."
    )
    channels: Literal[1, 3] = Field(3, description="1: greyscale, 3: RGB.")
    test_fraction: float = Field(
        0.1,
        ge=0,
        lt=1,
        description="Without a test/ folder: share of the images held out for testing.",
    )

    @field_validator("image_size")
    @classmethod
    def _positive(cls, v: int | tuple[int, int]) -> int | tuple[int, int]:
        sides = (v, v) if isinstance(v, int) else v
        if min(sides) < 1:
            raise ValueError("image_size must be positive")
        return v


class IGPTPredictOptions(BaseModel):
    """``ltx predict --set key=value`` (and ``ltx serve``'s ``options``) of the igpt task."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = Field(
        None, gt=0, description="Sampling temperature (default: the task's)."
    )
    top_k: int | None = Field(
        None,
        ge=0,
        description="Sample among the k likeliest colours (default or 0: the task's setting).",
    )
    samples: int = Field(4, ge=0, description="Completions per image.")
    count: int = Field(8, ge=0, description="Test images to complete when no files are given.")
    unconditional: int = Field(16, ge=0, description="Unconditional samples.")
    seed: int = Field(0, ge=0, description="Seed of the sampling.")

    @field_validator("top_k")
    @classmethod
    def _zero_is_unset(cls, v: int | None) -> int | None:
        return v or None
