"""``ltx predict --input`` for igpt through the CLI: a folder of image files (real
scikit-learn digits written as PNG), a glob, base64 images on standard input, and the
same rows from the in-memory Predictor the server uses."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

TINY = ["backbone.n_embd=16", "backbone.n_head=2", "backbone.n_layer=1"]
Predict = Callable[..., Any]


@pytest.fixture
def ckpt(ltx_shared_run: Callable[..., Path]) -> Path:
    """igpt on the packaged digits, a few steps with a one-layer GPT, once for the tests here."""
    run = ltx_shared_run(
        "igpt", "--max-steps", "3", "task.sample_count=0", "trainer.limit_val_batches=1",
        "trainer.limit_test_batches=1", "trainer.num_sanity_val_steps=0", *TINY,
    )  # fmt: skip
    return run / "checkpoints" / "last.ckpt"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Twelve real digits as 8x8 greyscale PNG files, some in a sub-folder, plus a note."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    root = tmp_path / "images"
    (root / "more").mkdir(parents=True)
    for i in range(12):
        pixels = (digits.images[i] * (255 / 16)).astype(np.uint8)
        where = root / "more" if i >= 8 else root
        Image.fromarray(pixels, mode="L").save(where / f"digit-{i:02d}.png")
    (root / "README.txt").write_text("not an image\n", encoding="utf-8")
    return root


@pytest.fixture
def predict(ltx_cli: Callable[..., Any]) -> Predict:
    """``predict(*args, input=None)``: ``ltx predict`` on the CPU without a progress bar."""

    def run(*args: str, input: str | None = None) -> Any:
        return ltx_cli("predict", "--accelerator", "cpu", "--no-progress", *args, input=input)

    return run


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_folder_of_images_predicts_one_row_per_image(
    ckpt: Path, folder: Path, predict: Predict
) -> None:
    result = predict("--ckpt", str(ckpt), "--input", str(folder), "--batch-size", "5")
    assert result.exit_code == 0, result.output
    rows = _lines(result.stdout)
    expected = sorted(str(p) for p in folder.rglob("*.png"))
    assert [r["input"] for r in rows] == expected  # README.txt is not an image: skipped
    digits = {str(i) for i in range(10)}
    for r in rows:
        assert r["bits_per_dim"] > 0 and r["predicted"] in digits and 0 < r["confidence"] <= 1

    # A glob, to a CSV file, carrying the path column.
    out = folder.parent / "pred.csv"
    by_glob = predict("--ckpt", str(ckpt), "--input", str(folder / "digit-0*.png"),
                      "--keep-columns", "path", "--output", str(out))  # fmt: skip
    assert by_glob.exit_code == 0, by_glob.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",")[:2] == ["path", "input"]
    assert [line.split(",")[0] for line in lines[1:]] == sorted(
        str(p) for p in folder.glob("digit-0*.png")
    )


def test_base64_images_on_standard_input_match_the_files(
    ckpt: Path, folder: Path, predict: Predict
) -> None:
    files = sorted(folder.glob("*.png"))[:3]
    by_path = _lines(
        predict("--ckpt", str(ckpt), "--input", str(folder), "--batch-size", "2").stdout
    )
    stdin = "".join(
        json.dumps({"image_base64": base64.b64encode(f.read_bytes()).decode()}) + "\n"
        for f in files
    )
    result = predict("--ckpt", str(ckpt), "--input", "-", input=stdin)
    assert result.exit_code == 0, result.output
    rows = _lines(result.stdout)
    want = {r["input"]: r for r in by_path}
    for f, row in zip(files, rows, strict=True):
        assert row["bits_per_dim"] == pytest.approx(want[str(f)]["bits_per_dim"], abs=1e-3)
        assert row["predicted"] == want[str(f)]["predicted"]

    from ltx_core.inference.predictor import Predictor

    predictor = Predictor.from_checkpoint(ckpt, accelerator="cpu")
    same = predictor.predict([str(f) for f in files], predictor.parse_options({}))
    assert [r["predicted"] for r in same] == [want[str(f)]["predicted"] for f in files]
    assert "temperature" in predictor.info()["options"]["properties"]


def test_image_input_mistakes_exit_2(
    ckpt: Path, folder: Path, tmp_path: Path, predict: Predict
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken.png").write_bytes(b"not a png")
    cases = [
        (["--input", str(tmp_path / "empty")], "holds no input files"),
        (["--input", str(tmp_path / "broken.png")], "not an image"),
        (["--input", str(folder), "--set", "temprature=0.5"], "Did you mean 'temperature'?"),
        (["--input", str(folder), "--set", "samples=many"], "must be a whole number"),
    ]
    for args, message in cases:
        result = predict("--ckpt", str(ckpt), *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr and "Traceback" not in result.output
    bad64 = predict("--ckpt", str(ckpt), "--input", "-", input='{"image_base64": "@@@"}\n')
    assert bad64.exit_code == 2 and "not valid base64" in bad64.stderr
