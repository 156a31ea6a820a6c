"""Build the pieces of a run from a resolved config, in the order they depend on each other.

    tokenizer (config, backbone config)          -> tokenizer
    dataset   (config, tokenizer)                -> data module -> hand-off (frozen)
    backbone  (config, hand-off, task's request) -> module (+ the state it saves)
    task      (config, backbone, hand-off)       -> LightningModule

Data flows one way: only the dataset writes the hand-off; the backbone and the task
each get it checked against what they declare they read; what the task asks of the
backbone and whether a checkpoint is being restored are explicit arguments.

Components written for ltx 0.1 (factories ``(config, info)``, tasks taking ``info=``,
``model_data_kwargs()``, ``backbone_info()``) are still built, with a deprecation
warning; they get the merged dict they used to get.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping
from typing import Any

from ltx_core.config.resolve import ResolvedConfig
from ltx_core.errors import LtxError
from ltx_core.handoff import BuiltBackbone, HandOff, Restore, declared_model, read_handoff

__all__ = [
    "build_datamodule",
    "build_task",
    "build_tokenizer",
    "dataset_handoff",
    "overrides",
]


def _accepts(func: Any, name: str) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    # ``**kwargs`` passes the argument on (a task's __init__ to LtxTask's).
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def overrides(cls: type, name: str, base: type) -> bool:
    """Whether ``cls`` defines ``name`` itself or in a class between it and ``base``."""
    return any(name in vars(k) for k in cls.__mro__[: cls.__mro__.index(base)])


def _deprecated(message: str) -> None:
    warnings.warn(message + " (see the migration notes in the docs).", DeprecationWarning, 3)


def build_tokenizer(resolved: ResolvedConfig, restore: Restore | None = None) -> Any:
    """The run's tokenizer, or ``None`` when it has none."""
    spec = resolved.specs.get("tokenizer")
    if spec is None:
        return None
    cfg = resolved.config
    factory = spec.load_target()
    if _accepts(factory, "backbone"):
        return factory(cfg.tokenizer, backbone=cfg.backbone, restore=restore)
    _deprecated(f"The tokenizer factory of '{spec.name}' takes (config, info)")
    return factory(cfg.tokenizer, {"backbone": cfg.backbone})


def build_datamodule(resolved: ResolvedConfig, tokenizer: Any = None) -> Any:
    """The data module, not yet set up."""
    spec = resolved.specs.get("dataset")
    if spec is None:
        raise LtxError(f"Task '{resolved.task_spec.name}' needs a dataset; pass --dataset NAME.")
    cls = spec.load_target()
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
    task_cls = task_spec.load_target()
    if not (isinstance(task_cls, type) and issubclass(task_cls, LtxTask)):
        raise LtxError(
            f"The task '{task_spec.name}' (plugin '{task_spec.plugin}') names "
            f"'{task_spec.target}', which is not an LtxTask subclass."
        )
    request = task_cls.backbone_request(cfg.task)
    legacy_extra: dict[str, Any] = {}
    if overrides(task_cls, "backbone_info", LtxTask):
        _deprecated(f"{task_cls.__name__}.backbone_info() is replaced by backbone_request()")
        legacy_extra = dict(task_cls.backbone_info(cfg.task, handoff.as_dict()))
        request = request if request is not None else legacy_extra
    # What a 0.1 component expects as ``info``: the hand-off, the task's requests, the
    # restore flag and what the backbone had written into it, in one dict.
    legacy_info: dict[str, Any] = dict(restore.backbone_state) if restore else {}
    legacy_info.update(handoff.as_dict())
    legacy_info.update(legacy_extra)
    if restore is not None:
        legacy_info["from_checkpoint"] = True
    used_legacy = False

    backbone: Any = None
    state: dict[str, Any] = {}
    backbone_spec = resolved.specs.get("backbone")
    if backbone_spec is not None:
        factory = backbone_spec.load_target()
        if _accepts(factory, "request"):
            data = read_handoff(
                declared_model(factory),
                handoff,
                reader=f"backbone '{backbone_spec.name}'",
                dataset=dataset,
            )
            built = factory(cfg.backbone, data, request=request, restore=restore)
        else:
            _deprecated(f"The backbone factory of '{backbone_spec.name}' takes (config, info)")
            used_legacy = True
            built = factory(cfg.backbone, legacy_info)
        if isinstance(built, BuiltBackbone):
            backbone, state = built.module, dict(built.state)
        else:
            backbone = built

    task_data = read_handoff(
        declared_model(task_cls), handoff, reader=f"task '{task_spec.name}'", dataset=dataset
    )
    common: dict[str, Any] = {
        "backbone": backbone,
        "optimizer": cfg.optimizer,
        "scheduler": cfg.scheduler,
        "tokenizer": tokenizer,
    }
    if _accepts(task_cls.__init__, "handoff") and not used_legacy:
        task = task_cls(cfg.task, handoff=task_data, restore=restore, **common)
    else:
        if not _accepts(task_cls.__init__, "handoff"):
            _deprecated(f"{task_cls.__name__}.__init__ takes info= instead of handoff=")
        # A 0.1 factory may have written into the dict (e.g. its model's config), and the
        # task reads it back from self.info.
        task = task_cls(cfg.task, info=legacy_info, **common)
        task.restore = restore
    task.backbone_state = state
    task.run_config = resolved.to_dict()
    return task
