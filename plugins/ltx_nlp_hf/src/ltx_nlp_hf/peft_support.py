"""``backbone.peft``: parameter-efficient fine-tuning of Hugging Face backbones with ``peft``.

The pydantic options are torch-free (``ltx config`` validates them); everything else
imports ``peft`` when a backbone is built. ``method`` names one of peft's config
classes (``lora``, ``ia3``, ``loha``, ``lokr``, ``adalora``, ...); the common options
``r``, ``alpha``, ``dropout`` and ``target_modules`` go to whichever of that class's
fields carry them (``lora_alpha`` or ``alpha``, ``lora_dropout`` or ``module_dropout``,
...), and ``options`` passes any other field of the class through.

Only the adapter and the task's head train. A checkpoint of a PEFT run keeps the
trainable weights and the weights the pretrained model did not have (a new head's),
plus a reference to the base model (its name and a fingerprint of its weights): it
stays a small fraction of a full one, and restoring loads the base from the reference
and checks the fingerprint before putting the saved weights back. The Hugging Face
export writes the adapter in peft's own format (``PeftModel.from_pretrained``) or the
merged model (``export: merged``), loadable by ``transformers`` alone.
"""

from __future__ import annotations

import copy
import hashlib
import json
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from ltx_core.config.models import LtxConfig
from ltx_core.errors import LtxError

__all__ = [
    "PeftOptions",
    "apply_peft",
    "base_fingerprint",
    "base_model",
    "checkpoint_keys",
    "is_peft",
    "known_methods",
    "load_partial",
    "save_export",
    "with_peft",
]

#: Heads whose layers are new on a pretrained encoder: trained in full beside the adapter.
TRAINED_HEADS = (
    "sequence-classification",
    "token-classification",
    "question-answering",
    "multiple-choice",
)
#: Our option -> the config-class fields that may carry it, first found wins.
_FIELDS = {
    "r": ("r",),
    "alpha": ("lora_alpha", "alpha"),
    "dropout": ("lora_dropout", "module_dropout", "vera_dropout", "boft_dropout"),
}


class PeftOptions(LtxConfig):
    """Parameter-efficient fine-tuning with ``peft`` (``pip install ltx-nlp-hf[peft]``)."""

    method: str = Field(
        "lora",
        description="A peft method by name: lora, ia3, loha, lokr, adalora, vera, ... (the "
        "names of peft's config classes).",
    )
    r: int = Field(8, gt=0, description="Rank of the update (methods that have one).")
    alpha: float = Field(
        16, gt=0, description="Scaling of the update (lora_alpha / alpha, where the method has it)."
    )
    dropout: float = Field(
        0.05, ge=0, lt=1, description="Dropout on the adapter's input (where the method has it)."
    )
    target_modules: list[str] | str = Field(
        "auto",
        description="Layers to adapt: 'auto' (peft's default for the architecture, else every "
        "linear layer), 'all-linear', or a list of module names (e.g. [query, value]).",
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Other fields of the method's peft config class (e.g. {use_rslora: true}, "
        "{total_step: 1000} for adalora).",
    )
    export: Literal["adapter", "merged"] = Field(
        "adapter",
        description="What artifacts/hf_model holds: the adapter in peft's format "
        "(PeftModel.from_pretrained) or the merged model (transformers alone).",
    )

    @field_validator("method")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()


def known_methods() -> list[str]:
    """peft's method names (its config classes), lower-case."""
    from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING

    return sorted(_method_name(k) for k in PEFT_TYPE_TO_CONFIG_MAPPING)


def _method_name(key: Any) -> str:
    return str(getattr(key, "value", key)).lower()  # PeftType members are str enums


def _config_class(method: str) -> Any:
    from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING

    for key, cls in PEFT_TYPE_TO_CONFIG_MAPPING.items():
        if _method_name(key) == method:
            return cls
    raise LtxError(
        f"backbone.peft.method: unknown peft method '{method}'; known: "
        f"{', '.join(known_methods())}."
    )


def head_modules(model: Any, head: str) -> list[str]:
    """The top-level modules of ``model`` outside its base model (the task's head)."""
    if head not in TRAINED_HEADS:
        return []  # LM heads are tied to the embeddings: they stay frozen with them
    prefix = getattr(model, "base_model_prefix", "")
    return [
        name
        for name, child in model.named_children()
        if name != prefix and any(True for _ in child.parameters())
    ]


def _peft_config(
    options: PeftOptions, fields: set[str], modules: list[str], auto: bool, added: list[int]
) -> Any:
    kwargs: dict[str, Any] = {}
    for ours, candidates in _FIELDS.items():
        for name in candidates:
            if name in fields:
                kwargs[name] = getattr(options, ours)
                break
    if "target_modules" in fields and not auto:
        target = options.target_modules
        kwargs["target_modules"] = "all-linear" if target == "auto" else target
    if modules and "modules_to_save" in fields:
        kwargs["modules_to_save"] = modules
    if added and "trainable_token_indices" in fields:
        # The rows of tokens the pretrained model never saw: trained (and saved) alone,
        # the rest of the embedding matrix stays frozen. Tied output layers share them.
        kwargs["trainable_token_indices"] = added
    kwargs.update(options.options)
    return kwargs


def apply_peft(
    model: Any, options: PeftOptions, head: str, added_tokens: list[int] | None = None
) -> Any:
    """``model`` wrapped by ``peft.get_peft_model``: base frozen, adapter and head trainable
    (and the embedding rows of ``added_tokens``, where the method supports it)."""
    import dataclasses

    from peft import get_peft_model, prepare_model_for_kbit_training

    if getattr(model, "is_loaded_in_4bit", False):
        # QLoRA: norms and head in fp32, inputs that carry gradients into the adapters.
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    cls = _config_class(options.method)
    fields = {f.name for f in dataclasses.fields(cls)}
    modules = head_modules(model, head)
    # 'auto' first lets peft pick its per-architecture default layers; where it has none
    # (a model type it does not know), every linear layer is adapted instead.
    attempts = [True, False] if options.target_modules == "auto" else [False]
    last: Exception | None = None
    for auto in attempts:
        try:
            config = cls(**_peft_config(options, fields, modules, auto, added_tokens or []))
            with warnings.catch_warnings():
                # peft asks the model with transformers' deprecated name; nothing to act on.
                warnings.filterwarnings("ignore", message=r".*is_gradient_checkpointing")
                return get_peft_model(model, config)
        except (TypeError, ValueError) as exc:
            last = exc
    raise LtxError(f"backbone.peft ({options.method}) was refused by peft: {last}") from None


def with_peft(
    built: Any,
    config: Any,
    head: str,
    new_weights: list[str] | None,
    restore: Any,
    added_tokens: list[int] | None = None,
) -> Any:
    """The built backbone wrapped by peft, its state extended with the base reference.

    ``new_weights``: the weights ``from_pretrained`` initialised (``None``: a randomly
    initialised model, every weight new); a checkpoint keeps them beside the adapter.
    ``added_tokens``: ids of the embedding rows added for the tokenizer's extra tokens.
    """
    from ltx_core.handoff import BuiltBackbone

    options: PeftOptions = config.peft
    model = built.module
    if new_weights is None:
        new_weights = [name for name, _ in model.named_parameters()]
    saved = dict(restore.backbone_state.get("peft") or {}) if restore is not None else None
    if restore is not None and not saved:
        raise LtxError(
            "This checkpoint was trained without backbone.peft; restore it with the same "
            "backbone section it was trained with."
        )
    wrapped = apply_peft(model, options, head, added_tokens)
    fingerprint = base_fingerprint(wrapped, new_weights)
    if saved is not None and saved.get("fingerprint") != fingerprint:
        raise LtxError(
            f"The base model '{config.pretrained_model_name_or_path}' is not the one this "
            "PEFT checkpoint was trained on (its weights differ); point "
            "backbone.pretrained_model_name_or_path at that model."
        )
    state = dict(built.state)
    state["peft"] = {
        "method": options.method,
        "base_model": config.pretrained_model_name_or_path,
        "revision": config.revision,
        "fingerprint": fingerprint,
        "new_weights": sorted(new_weights),
        "export": options.export,
    }
    return BuiltBackbone(wrapped, state)


def is_peft(module: Any) -> bool:
    """Whether ``module`` is a peft-wrapped model."""
    return hasattr(module, "peft_config") and hasattr(module, "get_base_model")


def base_model(module: Any) -> Any:
    """The transformers model under a peft wrapper (``module`` itself when not wrapped)."""
    return module.get_base_model() if is_peft(module) else module


def plain_name(name: str) -> str:
    """A parameter name of the wrapped model as the base model names it."""
    name = name.removeprefix("base_model.model.")
    for part in (
        ".token_adapter.base_layer",
        ".base_layer",
        ".original_module",
        ".modules_to_save.default",
    ):
        name = name.replace(part, "")
    return name


def base_fingerprint(model: Any, skip: Iterable[str] = ()) -> str:
    """A digest of the base model's frozen weights (shape, sum and absolute sum of each):
    restoring refuses a base model that is not the one the adapter was trained on."""
    import torch

    skipped = set(skip)
    digest = hashlib.sha256()
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            plain = plain_name(name)
            if p.requires_grad or plain in skipped or "lora_" in name:
                continue
            t = p.detach().double()
            digest.update(f"{plain}{tuple(p.shape)}{t.sum().item():.10e}".encode())
            digest.update(f"{t.abs().sum().item():.10e}".encode())
    return digest.hexdigest()[:16]


def checkpoint_keys(task: Any) -> set[str]:
    """The task's state-dict keys a PEFT checkpoint keeps: trainable weights, the weights
    the pretrained model did not provide (``backbone_state['peft']['new_weights']``), and
    the state a task's own modules keep besides weights (``get_extra_state``: e.g. cached
    reference log-probabilities), which no pretrained file can give back."""
    new = set(task.backbone_state.get("peft", {}).get("new_weights", []))
    keep = {k for k in task.state_dict(keep_vars=True) if k.endswith("._extra_state")}
    for name, p in task.named_parameters():
        plain = plain_name(name.removeprefix("backbone."))
        if p.requires_grad or plain in new:
            keep.add(name)
    return keep


def load_partial(task: Any, state_dict: Mapping[str, Any], strict: bool) -> Any:
    """Load a PEFT checkpoint's weights; the base model's come from its reference.

    Missing keys are fine where they are base weights; a missing trainable weight, or
    any unexpected key, is an error under ``strict`` (Lightning's resume) and reported
    otherwise (``ltx test`` / ``predict`` check the result).
    """
    from torch import nn

    result = nn.Module.load_state_dict(task, dict(state_dict), strict=False)
    required = checkpoint_keys(task)
    missing = [k for k in result.missing_keys if k in required]
    if strict and (missing or result.unexpected_keys):
        raise RuntimeError(
            f"PEFT checkpoint does not match the model: missing {missing[:5]}, "
            f"unexpected {list(result.unexpected_keys)[:5]}"
        )
    return nn.modules.module._IncompatibleKeys(missing, list(result.unexpected_keys))


def filter_checkpoint(task: Any, checkpoint: dict[str, Any]) -> None:
    """Drop the base model's weights from a checkpoint about to be saved."""
    keep = checkpoint_keys(task)
    # ``current_model_state``: the raw weights a weight average (trainer.ema_decay) saves
    # beside the averaged ones.
    for field in ("state_dict", "current_model_state"):
        state = checkpoint.get(field)
        if isinstance(state, dict):
            checkpoint[field] = {k: v for k, v in state.items() if k in keep}


def save_export(model: Any, out: Path, export: str) -> dict[str, Any]:
    """Write the adapter (peft's format) or the merged model into ``out``; returns the
    notes for ``ltx_export.json`` (how to load it)."""
    out.mkdir(parents=True, exist_ok=True)
    if export == "merged":
        # A copy: merging folds the adapter into the weights, and the run's model may
        # still be used after its export (predict from the same process, tests).
        merged = copy.deepcopy(model).merge_and_unload()
        merged.save_pretrained(out)
        return {"peft": {"export": "merged"}}
    model.save_pretrained(out)
    base = base_model(model)
    # The head's config (labels, sizes) that the base model must be built with before
    # the adapter is put on it.
    (out / "base_config.json").write_text(
        json.dumps(base.config.to_dict(), indent=2, default=str) + "\n", encoding="utf-8"
    )
    return {
        "peft": {
            "export": "adapter",
            "base_model": base.config._name_or_path,
            "load_with": "peft.PeftModel.from_pretrained(<the head model built from "
            "base_config.json with the base model's weights>, this folder)",
        }
    }
