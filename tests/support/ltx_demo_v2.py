"""A plugin written against the v2 API, in one module, for the core's own tests: a typed
hand-off, a backbone factory that reads it and the task's request, a task that declares
what it reads and writes an artifact. Registered in-process by ``demo_registered``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from ltx_core.config.models import DataConfig, LtxConfig, TaskConfig
from ltx_core.handoff import BuiltBackbone, HandOff, Restore
from ltx_core.registry.hookspecs import hookimpl

MOD = "ltx_demo_v2"


class DemoData(HandOff):
    """What the demo dataset hands over."""

    num_features: int
    class_names: list[str]


class DemoDataConfig(DataConfig):
    """Points around one centre per class."""

    samples: int = Field(240, ge=30, description="Points in all splits together.")
    label_order: list[str] = Field(
        ["ant", "bee", "cat"], description="Class names, in the order of their ids."
    )
    drop_key: str | None = Field(None, description="Leave this key out of the hand-off.")


class DemoBackboneConfig(LtxConfig):
    """The MLP."""

    hidden: int = Field(8, ge=1, description="Hidden units.")


class DemoTaskConfig(TaskConfig):
    """The classifier."""

    head_bias: bool = Field(True, description="Whether the output layer has a bias.")


class DemoHead(LtxConfig):
    """What the task asks of a backbone."""

    bias: bool = Field(True, description="Output bias.")


def _torch_side() -> Any:
    # Imported on use, as a real plugin keeps torch out of its registration module.
    import torch
    from torch import nn
    from torch.nn import functional as F
    from torch.utils.data import TensorDataset

    from ltx_core.data import LtxDataModule
    from ltx_core.task import LtxTask

    class DemoDataModule(LtxDataModule):
        config: DemoDataConfig

        def __init__(self, config: DemoDataConfig, **kwargs: Any) -> None:
            super().__init__(config, **kwargs)
            self._splits = "a subclass's own attribute"  # must not clobber the base

        def load_splits(self) -> dict[str, Any]:
            cfg = self.config
            # Labels are by name: the order of label_order decides the ids.
            names = sorted(cfg.label_order)
            gen = torch.Generator().manual_seed(0)
            centres = torch.randn(len(names), 4, generator=gen) * 4
            y_by_name = torch.randint(0, len(names), (cfg.samples,), generator=gen)
            x = centres[y_by_name] + torch.randn(cfg.samples, 4, generator=gen)
            ids = torch.tensor([cfg.label_order.index(names[int(i)]) for i in y_by_name])
            n = cfg.samples // 5
            return {
                "train": TensorDataset(x[: 3 * n], ids[: 3 * n]),
                "validation": TensorDataset(x[3 * n : 4 * n], ids[3 * n : 4 * n]),
                "test": TensorDataset(x[4 * n :], ids[4 * n :]),
            }

        def handoff(self) -> DemoData | dict[str, Any]:
            data = {"num_features": 4, "class_names": list(self.config.label_order)}
            if self.config.drop_key:
                data.pop(self.config.drop_key, None)
                return data
            return DemoData(**data)

    def build(
        config: DemoBackboneConfig,
        data: DemoData,
        *,
        request: DemoHead | None,
        restore: Restore | None,
    ) -> BuiltBackbone:
        bias = request.bias if request is not None else True
        module = nn.Sequential(
            nn.Linear(data.num_features, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, len(data.class_names), bias=bias),
        )
        return BuiltBackbone(module, {"restored": restore is not None, "bias": bias})

    class DemoTask(LtxTask):
        handoff: DemoData
        config: DemoTaskConfig
        monitor = "val_acc"
        monitor_mode = "max"

        @classmethod
        def backbone_request(cls, config: DemoTaskConfig) -> DemoHead:
            return DemoHead(bias=config.head_bias)

        def _step(self, batch: Any, stage: str) -> Any:
            x, y = batch
            logits = self.backbone(x)
            loss = F.cross_entropy(logits, y)
            self.log(f"{stage}_loss", loss)
            if stage != "train":
                self.log(f"{stage}_acc", (logits.argmax(-1) == y).float().mean())
            return loss

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            return self._step(batch, "train")

        def validation_step(self, batch: Any, batch_idx: int) -> None:
            self._step(batch, "val")

        def test_step(self, batch: Any, batch_idx: int) -> None:
            self._step(batch, "test")

        def write_artifacts(self, artifacts: Path) -> None:
            (artifacts / "labels.txt").write_text("\n".join(self.handoff.class_names) + "\n")

        def predict_inputs(
            self, inputs: list[str], out_dir: Path, datamodule: Any = None, **options: Any
        ) -> list[Any]:
            x = torch.tensor([[float(v) for v in t.split(",")] for t in inputs])
            names = self.handoff.class_names
            return [
                {"input": t, "class": names[int(c)]}
                for t, c in zip(inputs, self.backbone(x).argmax(-1), strict=True)
            ]

    return DemoDataModule, build, DemoTask


def __getattr__(name: str) -> Any:
    if name in ("DemoDataModule", "build", "DemoTask"):
        data, build, task = _torch_side()
        return {"DemoDataModule": data, "build": build, "DemoTask": task}[name]
    raise AttributeError(name)


@hookimpl
def register_tasks(register: Any) -> None:
    register(
        "demo-classify",
        target=f"{MOD}:DemoTask",
        config=f"{MOD}:DemoTaskConfig",
        summary="Classify points (v2 API).",
        default_dataset="demo-points",
        default_backbone="demo-mlp",
        task_defaults={"optimizer": {"lr": 0.02}, "trainer": {"max_steps": 6}},
        smoke={"trainer": {"max_steps": 2}},
        examples=["1,2,3,4"],
    )


@hookimpl
def register_datasets(register: Any) -> None:
    register("demo-points", target=f"{MOD}:DemoDataModule", config=f"{MOD}:DemoDataConfig")


@hookimpl
def register_backbones(register: Any) -> None:
    register("demo-mlp", target=f"{MOD}:build", config=f"{MOD}:DemoBackboneConfig")
