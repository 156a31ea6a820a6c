"""The task base: parameter groups, the warm-up / decay schedule, step-level logging."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from ltx_core.config.models import SchedulerConfig, TaskConfig
from ltx_core.task import LtxTask, lr_lambda, parameter_groups


def test_no_decay_for_biases_norms_and_named_extras() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Embedding(3, 4))
    decay, rest = parameter_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and rest["weight_decay"] == 0.0
    assert {id(p) for p in decay["params"]} == {id(model[0].weight), id(model[2].weight)}
    assert {id(p) for p in rest["params"]} == {
        id(model[0].bias), id(model[1].weight), id(model[1].bias)
    }  # fmt: skip
    decay, rest = parameter_groups(model, 0.1, no_decay=["2.weight"])
    assert id(model[2].weight) in {id(p) for p in rest["params"]}


def test_frozen_parameters_are_left_out() -> None:
    model = nn.Linear(2, 2)
    model.weight.requires_grad_(False)
    groups = parameter_groups(model, 0.1)
    assert sum(len(g["params"]) for g in groups) == 1


@pytest.mark.parametrize("name", ["constant", "linear", "cosine"])
def test_warmup_by_steps_then_decay(name: str) -> None:
    f = lr_lambda(SchedulerConfig(name=name, warmup_steps=10), total_steps=110)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(10) == pytest.approx(1.0)
    end = f(110)
    assert end == pytest.approx({"constant": 1.0, "linear": 0.0, "cosine": 0.0}[name], abs=1e-9)
    if name == "cosine":
        assert f(60) == pytest.approx(0.5)


def test_warmup_as_fraction_and_floor() -> None:
    f = lr_lambda(SchedulerConfig(name="cosine", warmup_fraction=0.1, min_lr_ratio=0.2), 100)
    assert f(4) == pytest.approx(0.5)  # 10 warm-up steps
    assert f(100) == pytest.approx(0.2)
    assert all(0.2 - 1e-9 <= f(s) <= 1.0 for s in range(10, 101))


def test_schedule_drives_a_real_optimizer() -> None:
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(SchedulerConfig(warmup_steps=2), 4))
    lrs = []
    for _ in range(4):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([0.5, 1.0, 1.0, 0.5])
    assert not math.isnan(sum(lrs))


class _Recorder(LtxTask):
    """Records, at each training step, whether a step-level ``self.log`` would be read."""

    def __init__(self) -> None:
        super().__init__(TaskConfig(), backbone=nn.Linear(2, 1))
        self.seen: list[tuple[int, bool, bool]] = []

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        self.seen.append(
            (self.global_step, self.logs_this_step(), self.logs_this_step(progress_bar=True))
        )
        return self.backbone(batch[0]).pow(2).mean()


@pytest.mark.parametrize("bar", [False, True])
def test_logs_this_step_follows_the_logging_interval(bar: bool, tmp_path: Path) -> None:
    import pytorch_lightning as pl
    from torch.utils.data import DataLoader, TensorDataset

    task = _Recorder()
    assert task.logs_this_step()  # outside a trainer: always
    trainer = pl.Trainer(
        accelerator="cpu", max_steps=7, log_every_n_steps=3, enable_progress_bar=bar,
        enable_checkpointing=False, logger=False, enable_model_summary=False,
        default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(task, DataLoader(TensorDataset(torch.randn(14, 2)), batch_size=2))
    assert [step for step, logs, _ in task.seen if logs] == [2, 5]  # steps 3 and 6
    for step, logs, with_bar in task.seen:
        assert with_bar == (bar or logs), step
