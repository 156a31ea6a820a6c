"""Build the pieces of a run from a resolved config, in the order they depend on each other.

    tokenizer (config, backbone config)          -> tokenizer
    dataset   (config, tokenizer)                -> data module -> hand-off (frozen)
    backbone  (config, hand-off, task's request) -> module (+ the state it saves)
    task      (config, backbone, hand-off)       -> LightningModule

Data flows one way: only the dataset writes the hand-off; the backbone and the task
each get it checked against what they declare they read; what the task asks of the
backbone and whether a checkpoint is being restored are explicit arguments.

Every component passes through :mod:`ltx_core.compat` on its way in, which hands back
components written for ltx 0.1 with the current API in front of them; nothing here
asks which API a component was written for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ltx_core import compat
from ltx_core.config.resolve import ResolvedConfig
from ltx_core.errors import LtxError
from ltx_core.handoff import BuiltBackbone, HandOff, Restore, declared_model, read_handoff

__all__ = ["build_datamodule", "build_task", "build_tokenizer", "dataset_handoff"]


def build_tokenizer(resolved: ResolvedConfig, restore: Restore | None = None) -> Any:
    """The run's tokenizer, or ``None`` when it has none."""
    spec = resolved.specs.get("tokenizer")
    if spec is None:
        return None
    cfg = resolved.config
    factory = compat.current_tokenizer_factory(spec.load_target(), spec.name)
    return factory(cfg.tokenizer, backbone=cfg.backbone, restore=restore)


def build_datamodule(resolved: ResolvedConfig, tokenizer: Any = None) -> Any:
    """The data module, not yet set up."""
    spec = resolved.specs.get("dataset")
    if spec is None:
        raise LtxError(f"Task '{resolved.task_spec.name}' needs a dataset; pass --dataset NAME.")
    cls = compat.current_datamodule_class(spec.load_target())
    return cls(resolved.config.dataset, tokenizer=tokenizer, seed=resolved.config.seed)


def dataset_handoff(datamodule: Any, resolved: ResolvedConfig) -> HandOff:
    """The set-up data module's hand-off, frozen."""
    given = datamodule.handoff()
    if isinstance(given, HandOff):
        return given
    if not isinstance(given, Mapping):
        raise LtxError(
            f"The dataset '{resolved.spec_name('dataset')}' hands over a "
            f"{type(given).__name__}; handoff() must return a HandOff or a mapping."
        )
    return HandOff.model_validate(dict(given))


def build_task(
    resolved: ResolvedConfig,
    handoff: HandOff,
    tokenizer: Any = None,
    restore: Restore | None = None,
) -> Any:
    """The task with its backbone, built from their configs and the hand-off."""
    from ltx_core.task import LtxTask

    cfg = resolved.config
    task_spec = resolved.task_spec
    dataset = resolved.spec_name("dataset")
    task_cls: Any = task_spec.load_target()
    if not (isinstance(task_cls, type) and issubclass(task_cls, LtxTask)):
        raise LtxError(
            f"The task '{task_spec.name}' (plugin '{task_spec.plugin}') names "
            f"'{task_spec.target}', which is not an LtxTask subclass."
        )
    legacy = compat.LegacyBuild(handoff.as_dict(), restore)
    task_cls = legacy.task_class(task_cls)
    request = task_cls.backbone_request(cfg.task)

    backbone: Any = None
    state: dict[str, Any] = {}
    backbone_spec = resolved.specs.get("backbone")
    if backbone_spec is not None:
        factory = legacy.backbone_factory(backbone_spec.load_target(), backbone_spec.name)
        reader = f"backbone '{backbone_spec.name}'"
        data = read_handoff(declared_model(factory), handoff, reader=reader, dataset=dataset)
        built = factory(cfg.backbone, data, request=request, restore=restore)
        if isinstance(built, BuiltBackbone):
            backbone, state = built.module, dict(built.state)
        else:
            backbone = built

    task_data = read_handoff(
        declared_model(task_cls), handoff, reader=f"task '{task_spec.name}'", dataset=dataset
    )
    task = task_cls(
        cfg.task,
        handoff=task_data,
        restore=restore,
        backbone=backbone,
        optimizer=cfg.optimizer,
        scheduler=cfg.scheduler,
        tokenizer=tokenizer,
    )
    task.backbone_state = state
    task.run_config = resolved.to_dict()
    return task
