"""Pictures from an image GPT: unconditional samples, half-image completions, PNG grids."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import torch
import torch.nn.functional as F
from torch import Tensor

from ltx_vision_igpt.palette import dequantize, quantize

__all__ = ["complete", "load_image", "sample", "save_grid"]


def sample(
    model: torch.nn.Module,
    palette: Tensor,
    image_size: Sequence[int],
    n: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """``n`` images (n, C, H, W) in [0, 1] sampled from nothing but the start vector."""
    h, w = int(image_size[0]), int(image_size[1])
    empty = torch.zeros(n, 0, dtype=torch.long, device=palette.device)
    tokens = model.generate(  # type: ignore[operator]
        empty, h * w, temperature=temperature, top_k=top_k, generator=generator
    )
    return dequantize(tokens, palette, (h, w))


def complete(
    model: torch.nn.Module,
    palette: Tensor,
    images: Tensor,
    n_samples: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Rows of ``[original, top half given, n_samples completions]`` -> (N * (2 + n), C, H, W).

    The model sees the top half of each image (whole rows, in raster order) and
    samples the bottom half pixel by pixel.
    """
    b, _, h, w = images.shape
    tokens = quantize(images.to(palette.device), palette)  # (B, H*W)
    given = (h // 2) * w
    prefix = tokens[:, :given].repeat_interleave(n_samples, dim=0)  # (B*n, given)
    done = model.generate(  # type: ignore[operator]
        prefix, h * w - given, temperature=temperature, top_k=top_k, generator=generator
    )
    filled = dequantize(done, palette, (h, w)).view(b, n_samples, -1, h, w)
    original = dequantize(tokens, palette, (h, w))  # as the model sees it: quantised
    half = original.clone()
    half[:, :, h // 2 :, :] = 0.5  # grey where the model has to fill in
    rows = torch.cat([original.unsqueeze(1), half.unsqueeze(1), filled], dim=1)
    return rows.flatten(0, 1)


def save_grid(images: Tensor, path: Path, nrow: int, min_side: int = 64) -> Path:
    """Write images (N, C, H, W) in [0, 1] as one PNG grid, enlarging tiny images crisply."""
    from torchvision.utils import save_image

    side = min(images.shape[-2:])
    if side < min_side:
        # Nearest-neighbour keeps 8x8 digits as visible blocks instead of a blur.
        images = F.interpolate(images.float(), scale_factor=-(-min_side // side), mode="nearest")
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(images.clamp(0, 1).cpu(), str(path), nrow=nrow, padding=2, pad_value=1.0)
    return path


def load_image(path: Path | BinaryIO, channels: int, image_size: Sequence[int]) -> Tensor:
    """Read an image file (a path or an open binary file) as a uint8 tensor (C, H, W) of
    the model's size and channels."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("L" if channels == 1 else "RGB")
        im = im.resize((int(image_size[1]), int(image_size[0])), Image.Resampling.BILINEAR)
        arr = np.asarray(im, dtype=np.uint8)
    t = torch.from_numpy(arr.copy())
    return t.unsqueeze(0) if t.ndim == 2 else t.permute(2, 0, 1).contiguous()
