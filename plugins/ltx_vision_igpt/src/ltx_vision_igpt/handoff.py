"""What igpt's datasets hand the model, and what the task asks of a backbone. Torch-free.

``PixelTokens`` is what any GPT backbone over palette tokens reads; ``ImageData`` adds
what the igpt task reads (the palette itself, image size, channels, class names). An
image dataset of another plugin that returns an ``ImageData`` works with the igpt task.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ltx_core.handoff import HandOff

__all__ = ["IGPTHead", "ImageData", "PixelTokens"]


class PixelTokens(HandOff):
    """A sequence of palette tokens per image."""

    vocab_size: int = Field(gt=0, description="Palette colours (token values).")
    seq_len: int = Field(gt=0, description="Pixels per image (height x width).")
    num_classes: int = Field(0, ge=0, description="Classes, for a classification head.")


class ImageData(PixelTokens):
    """The images behind the tokens."""

    dataset: str = Field(description="Which dataset the images come from.")
    image_size: list[int] = Field(min_length=2, max_length=2, description="[height, width].")
    channels: int = Field(gt=0, description="1 (greyscale) or 3 (RGB).")
    class_names: list[str] = Field(default_factory=list, description="Class names by id.")
    palette: list[list[float]] = Field(
        description="The k-means colour clusters, one row of channel values per token."
    )


class IGPTHead(BaseModel):
    """What the igpt task asks of a backbone: a classification head, or none."""

    model_config = ConfigDict(frozen=True)

    classifier: bool = Field(False, description="Build a classification head.")
