"""Build the pieces of a run from a resolved config, in the order they depend on each other:
tokenizer (shares parameters with the backbone) -> dataset -> hand-off -> backbone -> task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ltx_core.errors import LtxError
from ltx_core.resolve import ResolvedConfig

__all__ = ["build_datamodule", "build_task", "build_tokenizer"]


def build_tokenizer(resolved: ResolvedConfig) -> Any:
    spec = resolved.specs.get("tokenizer")
    if spec is None:
        return None
    cfg = resolved.config
    factory = spec.load_target()
    return factory(cfg.tokenizer, {"backbone": cfg.backbone})  # type: ignore[attr-defined]


def build_datamodule(resolved: ResolvedConfig, tokenizer: Any = None) -> Any:
    spec = resolved.specs.get("dataset")
    if spec is None:
        task = resolved.specs["task"]
        raise LtxError(f"Task '{task.name if task else '?'}' needs a dataset; pass --dataset NAME.")
    cls = spec.load_target()
    cfg = resolved.config
    return cls(cfg.dataset, tokenizer=tokenizer, seed=cfg.seed)  # type: ignore[attr-defined]


def build_task(resolved: ResolvedConfig, info: Mapping[str, Any], tokenizer: Any = None) -> Any:
    """The task with its backbone built from the backbone config and the hand-off."""
    task_spec = resolved.specs["task"]
    backbone_spec = resolved.specs.get("backbone")
    assert task_spec is not None
    cfg = resolved.config
    task_cls = task_spec.load_target()
    full_info = dict(info)
    full_info.update(task_cls.backbone_info(cfg.task, full_info))  # type: ignore[attr-defined]
    backbone = None
    if backbone_spec is not None:
        factory = backbone_spec.load_target()
        backbone = factory(cfg.backbone, full_info)  # type: ignore[attr-defined]
    task = task_cls(
        cfg.task,  # type: ignore[attr-defined]
        backbone=backbone,
        info=full_info,
        optimizer=cfg.optimizer,  # type: ignore[attr-defined]
        scheduler=cfg.scheduler,  # type: ignore[attr-defined]
        tokenizer=tokenizer,
    )
    task.run_config = resolved.to_dict()
    return task
