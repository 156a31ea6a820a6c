"""The body of ``ltx data preview``: a run's data as its model will see it, without the
model. Builds only what the data needs — the tokenizer and the data module, in the order
and through the same builders as a training run (:mod:`ltx_core.engine.build`) — then
asks the task class for its preview (:meth:`ltx_core.task.LtxTask.preview`). No
backbone, no task instance, no Trainer.
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl

from ltx_core.config.resolve import ResolvedConfig
from ltx_core.engine.build import build_datamodule, build_tokenizer, dataset_handoff
from ltx_core.engine.environment import quiet_lightning
from ltx_core.errors import LtxError, did_you_mean
from ltx_core.handoff import declared_model, read_handoff
from ltx_core.preview import DataPreview
from ltx_core.task import LtxTask

__all__ = ["preview_data"]

#: The stage of Lightning's ``setup`` a split belongs to.
_STAGE = {"train": "fit", "validation": "fit", "test": "test", "predict": "predict"}


def preview_data(resolved: ResolvedConfig, split: str = "train", limit: int = 3) -> DataPreview:
    """The task's preview of ``split`` of the run's data: ``limit`` examples and the
    split's statistics. A split the data does not have, or a negative ``limit``, is
    one sentence (:class:`~ltx_core.errors.LtxError`)."""
    if limit < 0:
        raise LtxError(f"The number of examples to show must be 0 or more, not {limit}.")
    task_spec = resolved.task_spec
    task_cls: Any = task_spec.load_target()
    if not (isinstance(task_cls, type) and issubclass(task_cls, LtxTask)):
        raise LtxError(
            f"The task '{task_spec.name}' (plugin '{task_spec.plugin}') names "
            f"'{task_spec.target}', which is not an LtxTask subclass."
        )
    quiet_lightning()
    # The seed a run would use: random splits and augmentations show what training sees.
    pl.seed_everything(resolved.config.seed, verbose=False)
    tokenizer = build_tokenizer(resolved)
    datamodule = build_datamodule(resolved, tokenizer)
    datamodule.prepare_data()
    datamodule.setup(_STAGE.get(split, "fit"))
    dataset = resolved.spec_name("dataset")
    have = list(datamodule.splits)
    if split not in have:
        raise LtxError(
            f"The dataset '{dataset}' has no '{split}' split; it has: {', '.join(have)}."
            + _hint(split, have)
        )
    # The hand-off as the task declares it, checked as a training run checks it: a
    # dataset that does not fit the task is the same sentence here as in 'ltx train'.
    handoff = read_handoff(
        declared_model(task_cls),
        dataset_handoff(datamodule, resolved),
        reader=f"task '{task_spec.name}'",
        dataset=dataset,
    )
    # The class, not compat's adapter for 0.1 tasks: the adapter only changes how a
    # task is constructed, and a preview constructs none.
    result = task_cls.preview(datamodule, split, limit, handoff=handoff)
    if not isinstance(result, DataPreview):
        raise LtxError(
            f"The task '{task_spec.name}' (plugin '{task_spec.plugin}') returned a "
            f"{type(result).__name__} from preview(); it must return a DataPreview."
        )
    return result


def _hint(split: str, have: list[str]) -> str:
    # 'val' is short for 'validation', though too short for difflib to see it.
    starts = [name for name in have if split and name.startswith(split.lower())]
    if len(starts) == 1:
        return f" Did you mean '{starts[0]}'?"
    return did_you_mean(split, have)
