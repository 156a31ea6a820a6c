"""A one-module plugin for ltx-serve's tests: a tiny classifier of 2-d points whose
``predict_batch`` refuses an option value only the model can judge (``top_k`` above its
number of classes). Such a request passes the checks it meets on arrival (the options
model takes any ``top_k >= 1``) and is refused by the model thread, in the middle of a
batch.

The test installs it as a distribution would be (an entry point in the group ``ltx``),
so the ``ltx serve`` process finds it as it finds any installed plugin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn
from torch.nn import functional as F
from torch.utils.data import TensorDataset

from ltx_core.config.models import DataConfig, LtxConfig, TaskConfig
from ltx_core.data import LtxDataModule
from ltx_core.errors import LtxError
from ltx_core.handoff import HandOff, Restore
from ltx_core.registry.hookspecs import hookimpl
from ltx_core.task import LtxTask

#: The plugin API this plugin is written for.
LTX_PLUGIN_API = 1
MOD = "ltx_serve_refusing"
CLASSES = 3


class Points(HandOff):
    """What the dataset hands the model."""

    num_features: int = Field(description="Coordinates per point.")
    num_classes: int = Field(description="Classes.")


class PointsConfig(DataConfig):
    """Points around one centre per class."""

    samples: int = Field(300, ge=50, description="Points in all splits together.")


class MlpConfig(LtxConfig):
    """A one-hidden-layer perceptron."""

    hidden: int = Field(8, ge=1, description="Hidden units.")


class PointsTaskConfig(TaskConfig):
    """The classifier (no settings of its own)."""


class TopK(BaseModel):
    """The prediction options: how many classes each result lists."""

    model_config = ConfigDict(extra="forbid")

    top_k: int = Field(1, ge=1, description="The k likeliest classes (at most the model's).")


class PointsData(LtxDataModule):
    config: PointsConfig

    def load_splits(self) -> dict[str, Any]:
        gen = torch.Generator().manual_seed(self.seed)
        centres = torch.randn(CLASSES, 2, generator=gen) * 4
        y = torch.randint(0, CLASSES, (self.config.samples,), generator=gen)
        x = centres[y] + torch.randn(self.config.samples, 2, generator=gen)
        n = self.config.samples // 5
        return {
            "train": TensorDataset(x[: 3 * n], y[: 3 * n]),
            "validation": TensorDataset(x[3 * n : 4 * n], y[3 * n : 4 * n]),
            "test": TensorDataset(x[4 * n :], y[4 * n :]),
        }

    def handoff(self) -> Points:
        return Points(num_features=2, num_classes=CLASSES)


def build_mlp(
    config: MlpConfig, data: Points, *, request: Any = None, restore: Restore | None = None
) -> nn.Module:
    return nn.Sequential(
        nn.Linear(data.num_features, config.hidden),
        nn.ReLU(),
        nn.Linear(config.hidden, data.num_classes),
    )


class PointsTask(LtxTask):
    config: PointsTaskConfig
    handoff: Points
    predict_options = TopK
    predict_input_doc = "a point as two numbers separated by a comma, e.g. '1.5,-2'"

    def _step(self, batch: Any, stage: str) -> torch.Tensor:
        x, y = batch
        loss = F.cross_entropy(self.backbone(x), y)
        self.log(f"{stage}_loss", loss)
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "test")

    def check_predict_inputs(self, raw: Sequence[Any]) -> list[Any]:
        rows = []
        for i, text in enumerate(raw):
            try:
                row = [float(v) for v in str(text).split(",")]
            except ValueError:
                raise LtxError(f"Input {i} is not numbers separated by commas.") from None
            if len(row) != self.handoff.num_features:
                raise LtxError(f"Input {i} has {len(row)} numbers; a point has 2.")
            rows.append((str(text), row))
        return rows

    def predict_batch(self, inputs: list[Any], options: TopK) -> list[Any]:
        classes = self.handoff.num_classes
        if options.top_k > classes:
            # Only the model knows how many classes it has: the arrival checks let this through.
            raise LtxError(f"top_k is {options.top_k}, but this model has only {classes} classes.")
        x = torch.tensor([row for _, row in inputs], device=self.device)
        probs = self.backbone(x).softmax(-1)
        top = probs.topk(options.top_k, dim=-1)
        return [
            {
                "input": text,
                "classes": [int(c) for c in indices],
                # How many inputs this model call predicted: the test reads which requests
                # the server batched together.
                "call_size": len(inputs),
            }
            for (text, _), indices in zip(inputs, top.indices, strict=True)
        ]


@hookimpl
def register_tasks(register: Any) -> None:
    register(
        "points-classify",
        target=f"{MOD}:PointsTask",
        config=f"{MOD}:PointsTaskConfig",
        summary="Classify 2-d points; refuses top_k above its classes while predicting.",
        default_dataset="points",
        default_backbone="points-mlp",
        task_defaults={"optimizer": {"lr": 0.05}},
        smoke={"trainer": {"max_steps": 3}},
        examples=["1,2"],
        predict_options=f"{MOD}:TopK",
    )


@hookimpl
def register_datasets(register: Any) -> None:
    register(
        "points",
        target=f"{MOD}:PointsData",
        config=f"{MOD}:PointsConfig",
        fits=["points-classify"],
    )


@hookimpl
def register_backbones(register: Any) -> None:
    register("points-mlp", target=f"{MOD}:build_mlp", config=f"{MOD}:MlpConfig")
