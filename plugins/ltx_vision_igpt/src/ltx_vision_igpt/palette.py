"""Colour palettes: fit by mini-batch k-means, cache on disk, quantise and de-quantise pixels.

A palette is a float tensor ``(K, C)`` of colours in ``[0, 1]``. Pixels become
the index of their nearest palette colour (squared distance); that index is
the GPT's token. Quantisation is a plain batched matmul so it runs on whatever
device the images are on (the task does it on the model's device, not in the
data loader).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from ltx_core.config.paths import cache_dir

__all__ = [
    "default_cache_dir",
    "dequantize",
    "fit_palette",
    "load_or_fit_palette",
    "minibatch_kmeans",
    "quantize",
]

log = logging.getLogger(__name__)
CACHE_VERSION = 1


def quantize(images: Tensor, palette: Tensor) -> Tensor:
    """``images`` (B, C, H, W), uint8 or float in [0, 1] -> tokens (B, H*W), raster order."""
    x = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    x = x.flatten(2).transpose(1, 2)  # (B, T, C)
    p = palette.to(device=x.device, dtype=x.dtype)  # (K, C)
    # Under bf16/fp16 autocast the matmul would round distances enough to pick the wrong
    # one of two close colours, so the search always runs in float32.
    kind = x.device.type if x.device.type in ("cpu", "cuda") else "cpu"
    with torch.autocast(device_type=kind, enabled=False):
        # argmin_k |x - p_k|^2 = argmin_k (|p_k|^2 - 2 x.p_k): |x|^2 is the same for every k.
        dist = (p * p).sum(-1) - 2.0 * (x @ p.T)  # (B, T, K)
    return dist.argmin(-1)


def dequantize(tokens: Tensor, palette: Tensor, image_size: Sequence[int]) -> Tensor:
    """tokens (B, H*W) -> images (B, C, H, W), float in [0, 1]."""
    h, w = int(image_size[0]), int(image_size[1])
    colours = palette.to(tokens.device)[tokens]  # (B, T, C)
    return colours.transpose(1, 2).reshape(tokens.shape[0], -1, h, w)


def _nearest(x: Tensor, centres: Tensor) -> Tensor:
    return ((centres * centres).sum(-1) - 2.0 * (x @ centres.T)).argmin(-1)


def _kmeans_pp(x: Tensor, k: int, gen: torch.Generator) -> Tensor:
    """k-means++ seeding: each new centre drawn with probability proportional to D^2."""
    centres = [x[torch.randint(len(x), (1,), generator=gen)]]
    d2 = ((x - centres[0]) ** 2).sum(-1)
    for _ in range(1, k):
        total = d2.sum()
        if total <= 0:  # fewer distinct points than k: repeat one (callers avoid this)
            centres.append(centres[-1])
            continue
        i = torch.multinomial(d2 / total, 1, generator=gen)
        centres.append(x[i])
        d2 = torch.minimum(d2, ((x - x[i]) ** 2).sum(-1))
    return torch.cat(centres)


def minibatch_kmeans(
    x: Tensor, k: int, *, seed: int = 0, batch_size: int = 4096, steps: int = 150
) -> Tensor:
    """Mini-batch k-means (Sculley, 2010) on points ``x`` (N, C) -> centres (k, C).

    Each centre moves toward the mean of its batch members with a learning rate of
    1 / (points it has absorbed so far), so it converges to the mean of all of them.
    """
    x = x.float()
    gen = torch.Generator().manual_seed(seed)
    init_pool = x[torch.randperm(len(x), generator=gen)[: max(20 * k, 10_000)]]
    centres = _kmeans_pp(init_pool, k, gen)
    counts = torch.zeros(k)
    for _ in range(steps):
        batch = x[torch.randint(len(x), (min(batch_size, len(x)),), generator=gen)]
        assign = _nearest(batch, centres)
        n = torch.bincount(assign, minlength=k).float()
        sums = torch.zeros_like(centres).index_add_(0, assign, batch)
        counts += n
        hit = n > 0
        lr = (n[hit] / counts[hit]).unsqueeze(1)
        centres[hit] = (1 - lr) * centres[hit] + lr * (sums[hit] / n[hit].unsqueeze(1))
    return centres


def fit_palette(pixels: Tensor, k: int, *, seed: int = 0) -> Tensor:
    """Palette of at most ``k`` colours for ``pixels`` (N, C) in [0, 1], sorted by brightness.

    When the pixels hold no more than ``k`` distinct colours (e.g. few grey levels),
    the palette is those colours exactly: k-means could only lose information.
    """
    distinct = torch.unique(pixels.float(), dim=0)
    palette = distinct if len(distinct) <= k else minibatch_kmeans(pixels, k, seed=seed)
    palette = palette.clamp(0.0, 1.0)
    order = torch.argsort(palette.mean(-1) + 1e-6 * palette[:, 0], stable=True)
    return palette[order].contiguous()


def default_cache_dir() -> Path:
    """``$LTX_CACHE_DIR/igpt``, else ``~/.cache/ltx/igpt``."""
    return cache_dir("igpt")


def load_or_fit_palette(
    pixels: Tensor, k: int, *, dataset: str, seed: int, cache_dir: str | Path | None = None
) -> Tensor:
    """Fit a palette to ``pixels`` (N, C) or read it from the cache.

    The cache key is the dataset name, palette size, seed and a hash of the sampled
    pixels themselves, so a different copy of "the same" dataset (a subset, a test
    fixture) never picks up another copy's palette.
    """
    digest = hashlib.sha1(pixels.numpy().tobytes()).hexdigest()[:12]
    folder = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    path = folder / f"{dataset}-k{k}-seed{seed}-{digest}.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") == CACHE_VERSION:
                log.info("Palette read from cache %s", path)
                return torch.tensor(data["palette"], dtype=torch.float32)
        except (OSError, ValueError, KeyError):
            log.warning("Ignoring unreadable palette cache %s", path)
    palette = fit_palette(pixels, k, seed=seed)
    payload = {
        "version": CACHE_VERSION,
        "dataset": dataset,
        "palette_size": k,
        "seed": seed,
        "samples": len(pixels),
        "palette": palette.tolist(),
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Write then rename, so processes fitting at once never read half a file.
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f)
        os.replace(tmp, path)
        log.info("Palette of %d colours fitted and cached at %s", len(palette), path)
    except OSError as exc:  # a read-only home must not stop training
        log.warning("Could not cache the palette in %s: %s", folder, exc)
    return palette
