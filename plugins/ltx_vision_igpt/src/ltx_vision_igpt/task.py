"""The ``igpt`` task: next-pixel prediction, joint classification, or a linear probe.

Batches arrive as uint8 images; the task quantises them to the palette on the
model's device (the palette is a buffer, built at construction from the
dataset's hand-off, so it follows the model to the GPU and lives in every
checkpoint). The backbone is any module with the GPT interface of
:mod:`ltx_vision_igpt.model`: ``features(idx, layer=None)``, ``lm_head``,
``classify(hidden)`` and ``generate(...)``.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ltx_core.errors import LtxError
from ltx_core.task import LtxTask
from ltx_vision_igpt.config import IGPTPredictOptions, IGPTTaskConfig
from ltx_vision_igpt.handoff import IGPTHead, ImageData
from ltx_vision_igpt.model import GPT
from ltx_vision_igpt.palette import quantize
from ltx_vision_igpt.pictures import complete, load_image, sample, save_grid
from ltx_vision_igpt.probe import load_pretrained_backbone, probe_layer

__all__ = ["IGPTTask"]

log = logging.getLogger(__name__)
LN2 = math.log(2.0)
#: What ``ltx predict --input FOLDER`` reads as images.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


class IGPTTask(LtxTask):
    """Image-GPT over palette tokens; see :class:`IGPTTaskConfig` for the modes.

    Batches are ``(images, labels)``: uint8 images ``(B, C, H, W)`` and class ids
    ``(B,)``. The hand-off is an :class:`~ltx_vision_igpt.handoff.ImageData`; any
    dataset that returns one (and such batches) trains with this task.
    """

    monitor = "val_loss"
    monitor_mode = "min"
    config: IGPTTaskConfig
    # Any module with GPT's interface will do (see the module docstring); GPT names that
    # interface for the type checker, which otherwise sees nn.Module's dynamic attributes.
    backbone: GPT
    # Registered in __init__ as a buffer; declared so its type is Tensor, not Tensor | Module.
    palette: Tensor

    # What the task reads from its dataset; the core checks the hand-off against it.
    handoff: ImageData

    def __init__(self, config: IGPTTaskConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        # A buffer: moves with the model, is saved with it, exists before any data is seen.
        data = self.handoff
        self.register_buffer("palette", torch.tensor(data.palette, dtype=torch.float32))
        self.image_size = (data.image_size[0], data.image_size[1])
        self.num_classes = data.num_classes
        names = data.class_names or [str(i) for i in range(self.num_classes)]
        self.class_names = [str(n) for n in names]
        self.probe: nn.Linear | None = None
        self.probe_layer = 0

        if config.mode != "generative":
            if self.num_classes < 1:
                raise ValueError(f"mode '{config.mode}' needs a dataset with classes.")
            # Instance attributes: the checkpoint callback reads them from the task.
            self.monitor, self.monitor_mode = "val_acc", "max"
        if config.mode == "classify" and getattr(self.backbone, "classifier", None) is None:
            raise ValueError("mode 'classify' needs a backbone built with a classification head.")
        if config.mode == "linear-probe":
            self._setup_probe(config)

    @classmethod
    def backbone_request(cls, config: IGPTTaskConfig) -> IGPTHead:
        # Only the classify mode trains the backbone's head; elsewhere it would sit unused.
        return IGPTHead(classifier=config.mode == "classify")

    # -- linear probe ------------------------------------------------------
    def _setup_probe(self, config: IGPTTaskConfig) -> None:
        self.probe_layer = probe_layer(config.probe_layer, len(self.backbone.h))
        self.probe = nn.Linear(self.backbone.config.n_embd, self.num_classes)
        # Rebuilt from the probe's own checkpoint, the weights come with its state dict.
        if self.restore is None:
            path = Path(str(config.probe_checkpoint)).expanduser()
            load_pretrained_backbone(self.backbone, self.palette, path)
            log.info("Linear probe on layer %d of the backbone from %s", self.probe_layer, path)
        self.backbone.requires_grad_(False)

    def on_train_epoch_start(self) -> None:
        if self.probe is not None:
            self.backbone.eval()  # frozen features: no dropout

    # -- the steps ---------------------------------------------------------
    def tokens(self, images: Tensor) -> Tensor:
        """Palette indices (B, H*W) of a batch of images, on the model's device."""
        return quantize(images, self.palette)

    def _step(self, batch: Any, stage: str) -> Tensor:
        images, labels = batch[0], batch[1]
        idx = self.tokens(images)
        b = idx.shape[0]
        metrics: dict[str, Tensor] = {}
        if self.probe is not None:
            with torch.no_grad():
                hidden = self.backbone.features(idx, layer=self.probe_layer)
                # The iGPT paper's probe: average-pool the layer-normed activations.
                feats = F.layer_norm(hidden, hidden.shape[-1:]).mean(dim=1)
            class_logits = self.probe(feats)
            loss = F.cross_entropy(class_logits, labels)
            if stage != "train":
                with torch.no_grad():
                    _, gen = self.backbone(idx, idx)
                assert gen is not None  # targets were given, so the loss is returned
                metrics["bpd"] = gen / LN2
        else:
            hidden = self.backbone.features(idx)
            logits = self.backbone.lm_head(hidden)
            gen = F.cross_entropy(logits.flatten(0, 1), idx.flatten())
            loss = gen
            # Bits per dimension: next-pixel loss in bits, per palette token.
            metrics["bpd"] = gen.detach() / LN2
            class_logits = None
            if self.config.mode == "classify":
                class_logits = self.backbone.classify(hidden)
                clf = F.cross_entropy(class_logits, labels)
                loss = gen + self.config.classifier_weight * clf
                metrics["clf_loss"] = clf.detach()
        if class_logits is not None:
            metrics["acc"] = (class_logits.argmax(-1) == labels).float().mean()
        on_step = stage == "train"
        if on_step and not self.logs_this_step(progress_bar=True):
            return loss  # neither a logger nor a progress bar would read it
        self.log(
            f"{stage}_loss",
            loss.detach(),
            prog_bar=True,
            on_step=on_step,
            on_epoch=not on_step,
            batch_size=b,
            sync_dist=not on_step,
        )
        if on_step and not self.logs_this_step():
            return loss  # only the progress bar reads the loss between logging steps
        for name, value in metrics.items():
            self.log(
                f"{stage}_{name}",
                value,
                prog_bar=name == "acc",
                on_step=on_step,
                on_epoch=not on_step,
                batch_size=b,
                sync_dist=not on_step,
            )
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> Tensor:
        return self._step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> Tensor:
        return self._step(batch, "test")

    def batch_stats(self, batch: Any) -> tuple[int, int | None]:
        images = batch[0]
        return int(images.shape[0]), int(images.shape[0] * images.shape[-2] * images.shape[-1])

    # -- pictures ----------------------------------------------------------
    def _generator(self, seed: int) -> torch.Generator:
        return torch.Generator(device=self.palette.device).manual_seed(seed)

    @torch.no_grad()
    def predict_class(self, images: Tensor) -> Tensor | None:
        """Class probabilities (B, classes) when this task classifies, else None."""
        idx = self.tokens(images.to(self.palette.device))
        if self.probe is not None:
            hidden = self.backbone.features(idx, layer=self.probe_layer)
            logits = self.probe(F.layer_norm(hidden, hidden.shape[-1:]).mean(dim=1))
        elif getattr(self.backbone, "classifier", None) is not None:
            logits = self.backbone.classify(self.backbone.features(idx))
        else:
            return None
        return logits.softmax(-1)

    @torch.no_grad()
    def bits_per_dim(self, images: Tensor) -> Tensor:
        """Per-image next-pixel loss in bits per palette token (B,)."""
        idx = self.tokens(images.to(self.palette.device))
        logits, _ = self.backbone(idx)
        nll = F.cross_entropy(logits.transpose(1, 2), idx, reduction="none")  # (B, T)
        return nll.mean(1) / LN2

    def write_pictures(
        self,
        out_dir: Path,
        images: Tensor | None,
        *,
        samples: int = 4,
        unconditional: int = 16,
        temperature: float | None = None,
        top_k: int | None = None,
        seed: int = 0,
    ) -> dict[str, Path]:
        """Write ``completions.png`` (for ``images``) and ``samples.png``; return their paths."""
        was_training = self.training
        self.eval()
        t = temperature if temperature is not None else self.config.temperature
        k = top_k if top_k is not None else self.config.top_k
        gen = self._generator(seed)
        written: dict[str, Path] = {}
        try:
            if images is not None and len(images) and samples > 0:
                grid = complete(
                    self.backbone,
                    self.palette,
                    images,
                    samples,
                    temperature=t,
                    top_k=k,
                    generator=gen,
                )
                written["completions"] = save_grid(grid, out_dir / "completions.png", 2 + samples)
            if unconditional > 0:
                pics = sample(
                    self.backbone,
                    self.palette,
                    self.image_size,
                    unconditional,
                    temperature=t,
                    top_k=k,
                    generator=gen,
                )
                nrow = max(1, math.isqrt(unconditional))
                written["samples"] = save_grid(pics, out_dir / "samples.png", nrow)
        finally:
            self.train(was_training)
        return written

    def _eval_images(self, datamodule: Any, count: int) -> tuple[Tensor, list[int]]:
        splits = datamodule.splits
        split = "test" if "test" in splits else "validation"
        ds = splits[split]
        # Spread over the split rather than its first few (often one class in a row).
        picks = torch.linspace(0, len(ds) - 1, steps=min(count, len(ds))).long().tolist()
        items = [ds[i] for i in picks]
        return torch.stack([img for img, _ in items]), [int(label) for _, label in items]

    def write_artifacts(self, artifacts: Path) -> None:
        n = self.config.sample_count
        if n <= 0:
            return
        images = None
        dm = self.datamodule
        if dm is not None:
            try:
                images, _ = self._eval_images(dm, max(1, n // 2))
            except (KeyError, IndexError, RuntimeError) as exc:
                log.warning("No images to complete in the sample grid: %s", exc)
        written = self.write_pictures(artifacts, images, samples=3, unconditional=n)
        for path in written.values():
            log.info("Wrote %s", path)

    def predict_dataset(
        self, datamodule: Any, out_dir: Path, options: IGPTPredictOptions
    ) -> list[Any]:
        """``ltx predict`` without inputs: complete the bottom half of ``count`` test images
        of the checkpoint's dataset, sample anew, and draw both into ``out_dir``.

        Options (``--set key=value``): the fields of :class:`IGPTPredictOptions`.
        """
        images, labels = self._eval_images(datamodule, options.count)
        written = self.write_pictures(
            Path(out_dir),
            images,
            samples=options.samples,
            unconditional=options.unconditional,
            temperature=options.temperature,
            top_k=options.top_k,
            seed=options.seed,
        )
        self.eval()
        probs = self.predict_class(images)
        bpd = self.bits_per_dim(images)
        results: list[dict[str, Any]] = []
        for i, label in enumerate(labels):
            row: dict[str, Any] = {
                "input": f"test image {i}",
                "bits_per_dim": round(float(bpd[i]), 4),
                "label": self.class_names[label],
            }
            if probs is not None:
                p, c = probs[i].max(-1)
                row["predicted"] = self.class_names[int(c)]
                row["confidence"] = round(float(p), 4)
            if "completions" in written:
                row["completions"] = str(written["completions"])
                row["grid_row"] = i
            results.append(row)
        if "samples" in written:
            results.append({"samples": str(written["samples"])})
        return results

    # -- batched prediction (ltx predict --input, ltx serve) -------------------
    predict_options = IGPTPredictOptions
    predict_input_doc = (
        "an image: the path of an image file this machine can read, or an object "
        '{"image_base64": "..."} holding an image file (PNG, JPEG, ...) in base64'
    )

    def read_predict_file(self, source: str) -> Iterator[tuple[Any, dict[str, Any]]]:
        """Image files: one file, a folder (every image in it, sorted) or a glob; ``-``:
        JSON lines of paths or ``{"image_base64": ...}`` objects on standard input."""
        from ltx_core.readers import expand_paths, iter_jsonl, stdin_lines

        if source == "-":
            for value in iter_jsonl(stdin_lines(), "standard input"):
                if isinstance(value, Mapping) and "path" in value:
                    yield value["path"], dict(value)
                elif isinstance(value, Mapping):
                    yield dict(value), {k: v for k, v in value.items() if k != "image_base64"}
                else:
                    yield value, {"path": value}
            return
        for path in expand_paths(source, IMAGE_SUFFIXES):
            yield str(path), {"path": str(path)}

    def check_predict_inputs(self, raw: Sequence[Any]) -> list[Any]:
        out: list[Any] = []
        for i, item in enumerate(raw):
            if isinstance(item, str):
                out.append((item, Path(item)))
                continue
            if isinstance(item, Mapping) and isinstance(item.get("image_base64"), str):
                try:
                    data = base64.b64decode(item["image_base64"], validate=True)
                except (binascii.Error, ValueError):
                    raise LtxError(f"Input {i}: image_base64 is not valid base64.") from None
                out.append((f"image {i}", data))
                continue
            raise LtxError(
                f'Input {i} must be an image path (a string) or {{"image_base64": "..."}}.'
            )
        return out

    def predict_batch(self, inputs: list[Any], options: IGPTPredictOptions) -> list[Any]:
        """Per image: bits per dimension, and the predicted class with its probability
        when the task classifies. (Completions and samples are pictures: ``ltx predict``
        without inputs draws them.)"""
        images = torch.stack([self._read(src) for _, src in inputs])
        probs = self.predict_class(images)
        bpd = self.bits_per_dim(images)
        results: list[Any] = []
        for i, (name, _) in enumerate(inputs):
            row: dict[str, Any] = {"input": name, "bits_per_dim": round(float(bpd[i]), 4)}
            if probs is not None:
                p, c = probs[i].max(-1)
                row["predicted"] = self.class_names[int(c)]
                row["confidence"] = round(float(p), 4)
            results.append(row)
        return results

    def _read(self, path: Path | bytes) -> Tensor:
        if isinstance(path, bytes):
            try:
                return load_image(io.BytesIO(path), self.handoff.channels, self.image_size)
            except OSError as exc:
                raise LtxError(
                    f"The image data is not an image this machine can read: {exc}"
                ) from None
        if not path.is_file():
            raise LtxError(f"Input image '{path}' does not exist.")
        try:
            return load_image(path, self.handoff.channels, self.image_size)
        except OSError as exc:
            raise LtxError(f"'{path}' is not an image this machine can read: {exc}") from None
