"""A fine-tuned classifier's own labels, mapped onto a dataset's.

A Hugging Face classifier names its classes in its config (``id2label``); a dataset
names its classes in its own order (``label_names``). Loading such a model for a dataset
matches the two by name (case aside): when they are the same set, the head's output rows
are re-ordered so that class id ``i`` means the dataset's ``label_names[i]`` and the
model scores exactly as it was trained to. Models whose labels are unnamed
(``LABEL_0``, ``LABEL_1``, ... as ``transformers`` defaults them) are taken in id order.

Whatever was found is recorded as a :class:`HeadReport` in the backbone's state, so
``ltx test TASK`` (scoring a model ltx did not train) can refuse, in one sentence, a
model whose labels differ from the data's or whose head was never trained.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ltx_core.errors import LtxError

__all__ = ["HeadReport", "default_names", "match_labels", "reorder_head"]

_DEFAULT = re.compile(r"LABEL_\d+")


def default_names(names: Sequence[str]) -> bool:
    """Whether the names are ``transformers``' placeholders (``LABEL_0``, ...)."""
    return all(_DEFAULT.fullmatch(str(n)) for n in names)


@dataclass
class HeadReport:
    """What loading a pretrained model found about its head (JSON-able, saved as state).

    ``order[i]`` is the model's class id of the dataset's class ``i`` (``None``: no
    mapping, the head is new or its labels are not the data's); ``problem`` says in one
    sentence why the model cannot be scored on this data as it is; ``new_weights``
    names the weights ``from_pretrained`` had to initialise (an untrained head).
    """

    model: str
    pretrained: bool
    model_labels: list[str] | None = None
    order: list[int] | None = None
    problem: str | None = None
    new_weights: list[str] = field(default_factory=list)

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> HeadReport | None:
        if not isinstance(state, Mapping):
            return None
        return cls(**{k: state[k] for k in cls.__dataclass_fields__ if k in state})


def _model_names(config: Any) -> list[str]:
    id2label = getattr(config, "id2label", None) or {}
    count = int(getattr(config, "num_labels", len(id2label)) or len(id2label))
    return [str(id2label.get(i, id2label.get(str(i), f"LABEL_{i}"))) for i in range(count)]


def match_labels(config: Any, dataset_names: Sequence[str], model: str) -> HeadReport:
    """Match a loaded model config's labels with the dataset's, before the head is built."""
    names = _model_names(config)
    report = HeadReport(model=model, pretrained=True, model_labels=names)
    wanted = [str(n) for n in dataset_names]
    if default_names(names):
        if len(names) == len(wanted):
            report.order = list(range(len(wanted)))
        else:
            report.problem = (
                f"The model '{model}' has {len(names)} output classes but the dataset has "
                f"{len(wanted)} ({', '.join(wanted)})."
            )
        return report
    by_name = {n.strip().lower(): i for i, n in enumerate(names)}
    if len(by_name) == len(names) and sorted(by_name) == sorted(n.strip().lower() for n in wanted):
        report.order = [by_name[n.strip().lower()] for n in wanted]
        return report
    report.problem = (
        f"The model '{model}' predicts the labels {', '.join(names)}, but the dataset's labels "
        f"are {', '.join(wanted)}; set dataset.label_names to the model's names for the data's "
        f"classes."
    )
    return report


def _output_parameters(model: Any, rows: int) -> list[Any]:
    """The parameters of the head's output layer: outside the base model, ``rows`` rows,
    of the last such module (a RoBERTa head's dense layer comes before its output)."""
    prefix = getattr(model, "base_model_prefix", "") or ""
    last: list[Any] = []
    for name, module in model.named_modules():
        if not name or (prefix and name.split(".")[0] == prefix):
            continue
        own = [p for p in module.parameters(recurse=False) if p.shape and p.shape[0] == rows]
        if own:
            last = own
    return last


def reorder_head(model: Any, order: Sequence[int], probe: Mapping[str, Any]) -> None:
    """Re-order the head's outputs: new class ``i`` is the model's class ``order[i]``.

    ``probe`` is a small tokenised batch; the logits before and after are compared, so a
    head this cannot find is refused instead of scored under the wrong names.
    """
    import torch

    if list(order) == list(range(len(order))):
        return
    params = _output_parameters(model, len(order))
    if not params:
        raise LtxError(
            f"Cannot re-order the output layer of {type(model).__name__} to the dataset's "
            f"labels; set dataset.label_names in the model's own order."
        )
    index = torch.as_tensor(list(order), dtype=torch.long)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        before = model(**probe).logits
        for p in params:
            p.copy_(p.index_select(0, index.to(p.device)))
        after = model(**probe).logits
    model.train(was_training)
    if not torch.allclose(after, before.index_select(-1, index.to(before.device)), atol=1e-5):
        raise LtxError(
            f"Re-ordering the output layer of {type(model).__name__} did not re-order its "
            f"predictions; set dataset.label_names in the model's own order."
        )


def check_scorable(state: Mapping[str, Any], head: str) -> None:
    """Refuse to score a model whose weights mean nothing on this data (``ltx test TASK``).

    ``state`` is the backbone's state (``BuiltBackbone.state``); its ``head_report`` says
    whether pretrained weights were loaded, which were new and how the labels matched.
    """
    report = HeadReport.from_state(state.get("head_report"))
    if report is None or not report.pretrained:
        raise LtxError(
            "This backbone has random weights, so there is no trained model to score; use "
            "--backbone hf with backbone.pretrained_model_name_or_path set to a fine-tuned "
            "model (a folder or a hub name), or ltx test --ckpt for an ltx checkpoint."
        )
    named = report.model_labels is not None and not default_names(report.model_labels)
    if report.problem and named:
        raise LtxError(report.problem)
    if report.new_weights:
        shown = ", ".join(report.new_weights[:4]) + (" ..." if len(report.new_weights) > 4 else "")
        raise LtxError(
            f"The model '{report.model}' has no trained {head} head (its weights {shown} "
            f"would be newly initialised), so its score would be chance; fine-tune it first "
            f"with ltx train, or choose a model fine-tuned for this task."
        )
    if report.problem:
        raise LtxError(report.problem)
