"""Palette fitting, caching and quantisation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from ltx_vision_igpt import palette as pal
from ltx_vision_igpt.palette import dequantize, fit_palette, load_or_fit_palette, quantize


def test_quantize_picks_the_nearest_colour_in_raster_order() -> None:
    palette = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    img = torch.zeros(1, 3, 2, 2)
    img[0, :, 0, 1] = torch.tensor([0.9, 0.1, 0.2])  # near red
    img[0, :, 1, 0] = torch.tensor([0.8, 0.7, 0.9])  # near white
    img[0, :, 1, 1] = torch.tensor([0.2, 0.1, 0.1])  # near black
    assert quantize(img, palette).tolist() == [[0, 1, 2, 0]]


def test_quantize_reads_uint8_as_0_to_255() -> None:
    palette = torch.tensor([[0.0], [0.5], [1.0]])
    img = torch.tensor([[[[0, 100, 200, 255]]]], dtype=torch.uint8)  # (1, 1, 1, 4)
    assert quantize(img, palette).tolist() == [[0, 1, 2, 2]]


def test_dequantize_inverts_quantize_on_palette_colours() -> None:
    palette = torch.rand(16, 3)
    tokens = torch.randint(0, 16, (4, 5 * 6))
    images = dequantize(tokens, palette, (5, 6))
    assert images.shape == (4, 3, 5, 6)
    assert torch.equal(quantize(images, palette), tokens)


def test_few_distinct_levels_are_kept_exactly() -> None:
    levels = torch.tensor([0.0, 0.25, 0.5, 1.0])
    pixels = levels[torch.randint(0, 4, (5000,))].unsqueeze(1)
    assert fit_palette(pixels, 16).flatten().tolist() == levels.tolist()


def test_kmeans_finds_separated_clusters_and_sorts_by_brightness() -> None:
    gen = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.9, 0.8, 0.9], [0.1, 0.1, 0.2], [0.5, 0.2, 0.6]])
    pixels = (
        centres[torch.randint(0, 3, (20_000,), generator=gen)]
        + 0.02 * torch.randn(20_000, 3, generator=gen)
    ).clamp(0, 1)
    found = fit_palette(pixels, 3, seed=0)
    expected = centres[centres.mean(1).argsort()]
    assert torch.allclose(found, expected, atol=0.02)


def test_kmeans_is_deterministic_for_a_seed() -> None:
    pixels = torch.rand(4000, 3)
    assert torch.equal(fit_palette(pixels, 8, seed=3), fit_palette(pixels, 8, seed=3))


def test_palette_is_cached_by_dataset_size_seed_and_pixels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pixels = torch.rand(3000, 3)
    first = load_or_fit_palette(pixels, 8, dataset="toy", seed=1, cache_dir=tmp_path)
    files = list(tmp_path.glob("toy-k8-seed1-*.json"))
    assert len(files) == 1
    assert json.loads(files[0].read_text())["palette_size"] == 8

    def no_fit(*args: object, **kwargs: object) -> torch.Tensor:
        raise AssertionError("the cached palette should have been used")

    monkeypatch.setattr(pal, "fit_palette", no_fit)
    again = load_or_fit_palette(pixels, 8, dataset="toy", seed=1, cache_dir=tmp_path)
    assert torch.equal(first, again)
    monkeypatch.undo()
    # Other pixels (another copy of "toy"), size or seed: another entry.
    load_or_fit_palette(torch.rand(3000, 3), 8, dataset="toy", seed=1, cache_dir=tmp_path)
    load_or_fit_palette(pixels, 4, dataset="toy", seed=1, cache_dir=tmp_path)
    load_or_fit_palette(pixels, 8, dataset="toy", seed=2, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("toy-*.json"))) == 4


def test_default_cache_dir_follows_ltx_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LTX_CACHE_DIR", str(tmp_path))
    load_or_fit_palette(torch.rand(2000, 1), 4, dataset="grey", seed=0)
    assert list((tmp_path / "igpt").glob("grey-k4-seed0-*.json"))


def test_unreadable_cache_is_refitted(tmp_path: Path) -> None:
    pixels = torch.rand(2000, 3)
    load_or_fit_palette(pixels, 4, dataset="toy", seed=0, cache_dir=tmp_path)
    (path,) = tmp_path.glob("toy-*.json")
    path.write_text("{not json")
    refit = load_or_fit_palette(pixels, 4, dataset="toy", seed=0, cache_dir=tmp_path)
    assert refit.shape == (4, 3)
    assert json.loads(path.read_text())["palette"] == refit.tolist()


def test_quantize_is_exact_under_low_precision_autocast() -> None:
    # 512 close colours: bf16 distances would confuse neighbours.
    palette = torch.rand(512, 3)
    images = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    exact = quantize(images, palette)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(quantize(images, palette), exact)
