"""``HFTask``: what every task of this plugin shares.

The backbone is a ``transformers`` model with the task's head, so the training step is
the model's own loss. Evaluation collects a small record per batch, gathers the
records of every process, and computes the metrics once on the whole split (F1,
exact match, ROUGE and BLEU are not means of per-batch values). At the end of a run
the model and tokenizer are exported as a Hugging Face folder, ``artifacts/hf_model/``.

Each task asks for its head with :meth:`HFTask.backbone_request` and declares the
hand-off it reads (``handoff: ...``, a model of :mod:`ltx_nlp_hf.handoff`).
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

import torch
from torch import nn

# Imported at run time, not only for type checking: the core reads the task's class
# annotations (``handoff: ...``) with typing.get_type_hints, which resolves them all.
from transformers import PreTrainedModel

from ltx_core.errors import LtxError
from ltx_core.handoff import HandOff, Restore
from ltx_core.task import LtxTask
from ltx_nlp_hf.config.tasks import GenerationOptions, NLPTaskConfig
from ltx_nlp_hf.handoff import HeadRequest, TokenizedData
from ltx_nlp_hf.peft_support import (
    base_model,
    filter_checkpoint,
    is_peft,
    load_partial,
    save_export,
)

if TYPE_CHECKING:
    from transformers import GenerationMixin

__all__ = ["HFTask", "gather_objects", "generation_kwargs", "generation_settings", "option"]

log = logging.getLogger(__name__)

STAGE_SPLIT = {"val": "validation", "test": "test"}


def gather_objects(items: list[Any]) -> list[Any]:
    """Every process's items, concatenated (just ``items`` in a single process)."""
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return items
    everyone: list[list[Any] | None] = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, items)
    return [x for part in everyone for x in (part or [])]


def json_object_or_text(item: Any) -> Any:
    """A command-line or file input that holds a JSON object (``'{"question": ...}'``)
    decoded; anything else, including text that only starts with a brace, as it came."""
    if isinstance(item, str) and item.lstrip().startswith("{"):
        try:
            return json.loads(item)
        except json.JSONDecodeError:
            return item
    return item


def option(options: Mapping[str, Any], key: str, default: Any, cast: type = str) -> Any:
    """A ``--set key=value`` option as ``cast`` (they arrive as strings)."""
    if key not in options:
        return default
    raw = options[key]
    try:
        if cast is bool:
            return str(raw).strip().lower() in {"1", "true", "yes", "on"}
        return cast(raw)
    except (TypeError, ValueError):
        raise LtxError(f"--set {key}={raw} is not a valid {cast.__name__}.") from None


def generation_kwargs(gen: GenerationOptions, options: Mapping[str, Any] | None = None) -> dict:
    """``model.generate`` keyword arguments from the config, overridden by ``--set`` options."""
    opts = options or {}
    out: dict[str, Any] = {
        "max_new_tokens": option(opts, "max_new_tokens", gen.max_new_tokens, int),
        "num_beams": option(opts, "num_beams", gen.num_beams, int),
        "do_sample": option(opts, "do_sample", gen.do_sample, bool),
    }
    if out["do_sample"]:
        out["temperature"] = option(opts, "temperature", gen.temperature, float)
        top_k = option(opts, "top_k", gen.top_k, int)
        top_p = option(opts, "top_p", gen.top_p, float)
        if top_k is not None:
            out["top_k"] = top_k
        if top_p is not None:
            out["top_p"] = top_p
    return out


def generation_settings(gen: GenerationOptions, opts: Any = None) -> dict[str, Any]:
    """``model.generate`` keyword arguments: the config's decoding settings, with the set
    fields of a :class:`~ltx_nlp_hf.config.predict.GenerationPredictOptions` over them."""
    given = {} if opts is None else opts.model_dump(exclude_none=True)
    merged = {**gen.model_dump(), **{k: v for k, v in given.items() if k != "seed"}}
    out: dict[str, Any] = {
        "max_new_tokens": merged["max_new_tokens"],
        "num_beams": merged["num_beams"],
        "do_sample": merged["do_sample"],
    }
    if out["do_sample"]:
        out["temperature"] = merged["temperature"]
        for key in ("top_k", "top_p"):
            if merged.get(key) is not None:
                out[key] = merged[key]
    return out


class HFTask(LtxTask):
    """Base task over a ``transformers`` model with a head.

    Batch: a dict of tensors, ``input_ids`` and ``attention_mask`` (and
    ``token_type_ids`` where the tokenizer makes them) of shape (batch, tokens), plus
    what the task's head takes as targets (``labels``, ...); keys the model's
    ``forward`` does not name are left out of its call. Hand-off:
    :class:`~ltx_nlp_hf.handoff.TokenizedData` or a family's model built on it.
    """

    config: NLPTaskConfig
    handoff: TokenizedData
    # LtxTask types its backbone as any nn.Module; this plugin's backbones are always
    # transformers models with a head (build_hf_backbone / build_tiny_backbone).
    backbone: PreTrainedModel
    #: The head the backbone must have (a key of :data:`ltx_nlp_hf.backbones.HEADS`).
    head: ClassVar[str] = ""
    #: The ``transformers.pipeline`` task the export loads with (None: no pipeline exists).
    pipeline_task: ClassVar[str | None] = None
    #: Batch keys that are bookkeeping, not model inputs.
    non_model_keys: ClassVar[tuple[str, ...]] = ("feature_index",)

    def __init__(
        self,
        config: NLPTaskConfig,
        *,
        backbone: nn.Module | None,
        handoff: HandOff | Mapping[str, Any] | None = None,
        optimizer: Any = None,
        scheduler: Any = None,
        tokenizer: Any = None,
        restore: Restore | None = None,
    ) -> None:
        if backbone is None:
            raise LtxError(f"The task '{type(self).__name__}' needs a backbone; pass --backbone.")
        super().__init__(
            config,
            backbone=backbone,
            handoff=handoff,
            optimizer=optimizer,
            scheduler=scheduler,
            tokenizer=tokenizer,
            restore=restore,
        )
        self._records: list[Any] = []
        self._accepted: frozenset[str] | None = None

    @classmethod
    def backbone_request(cls, config: Any) -> HeadRequest:
        """The head this task's model needs (the factory builds it)."""
        return HeadRequest(head=cls.head)

    # -- steps ---------------------------------------------------------------
    def model_inputs(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        """The batch entries the model's ``forward`` names (a BERT tokenizer's token_type_ids
        mean nothing to T5 or GPT-2)."""
        if self._accepted is None:
            # Under peft the wrapper's forward takes **kwargs: the base model's names count.
            params = inspect.signature(base_model(self.backbone).forward).parameters
            self._accepted = frozenset(
                name
                for name, p in params.items()
                if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            )
        return {
            k: v for k, v in batch.items() if k not in self.non_model_keys and k in self._accepted
        }

    def forward(self, **inputs: Any) -> Any:
        return self.backbone(**inputs)

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        out = self.backbone(**self.model_inputs(batch))
        self.log("train_loss", out.loss, prog_bar=True, batch_size=self._batch_size(batch))
        return out.loss

    def batch_stats(self, batch: Any) -> tuple[int, int | None]:
        ids = batch["input_ids"]
        mask = batch.get("attention_mask")
        tokens = int(mask.sum()) if mask is not None else int(ids.numel())
        return int(ids.shape[0]), tokens

    @staticmethod
    def _batch_size(batch: Mapping[str, Any]) -> int:
        return int(batch["input_ids"].shape[0])

    # -- evaluation ------------------------------------------------------------
    def eval_step(self, stage: str, batch: dict[str, Any], batch_idx: int) -> Any:
        """Log per-batch values and return a record for :meth:`eval_metrics` (or None)."""
        raise NotImplementedError

    def eval_metrics(self, stage: str, records: list[Any]) -> dict[str, float]:
        """Metrics of a whole split from every batch's record."""
        return {}

    def log_loss(self, stage: str, loss: torch.Tensor, batch: Mapping[str, Any]) -> None:
        self.log(
            f"{stage}_loss",
            loss,
            on_epoch=True,
            prog_bar=stage == "val",
            sync_dist=True,
            batch_size=self._batch_size(batch),
        )

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        record = self.eval_step("val", batch, batch_idx)
        if record is not None:
            self._records.append(record)

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        record = self.eval_step("test", batch, batch_idx)
        if record is not None:
            self._records.append(record)

    def on_validation_epoch_start(self) -> None:
        self._records = []

    def on_test_epoch_start(self) -> None:
        self._records = []

    def on_validation_epoch_end(self) -> None:
        self._finish_eval("val")

    def on_test_epoch_end(self) -> None:
        self._finish_eval("test")

    def _finish_eval(self, stage: str) -> None:
        records = gather_objects(self._records)
        self._records = []
        if not records:
            return
        for name, value in self.eval_metrics(stage, records).items():
            self.log(
                f"{stage}_{name}", float(value), sync_dist=True, prog_bar=name in ("acc", "f1")
            )

    # -- export ------------------------------------------------------------------
    def write_artifacts(self, artifacts: Path) -> None:
        """The Hugging Face export, ``artifacts/hf_model/`` (unless ``task.export_hf=false``)."""
        if not self.config.export_hf:
            return
        if not (
            is_peft(self.backbone) or callable(getattr(self.backbone, "save_pretrained", None))
        ):
            # A custom backbone (not a Hugging Face model) has no Hugging Face format: the
            # export is skipped, the run's metrics and checkpoints are whole.
            log.warning(
                "Skipped the Hugging Face export: the backbone %s is not a Hugging Face model "
                "(it has no save_pretrained); set task.export_hf=false to say so.",
                type(self.backbone).__name__,
            )
            return
        out = Path(artifacts) / "hf_model"
        self.export_hf(out)
        from ltx_nlp_hf.model_card import write_model_card

        write_model_card(
            out,
            Path(artifacts).parent,
            self.handoff.as_dict(),
            pipeline=self.pipeline_task,
            load_with=f"transformers.{self.auto_class_name()}.from_pretrained",
        )
        log.info("Exported the model to %s", out)

    def prepare_evaluation(self) -> None:
        """``ltx test TASK``: score a Hugging Face model only when its head is trained and
        its labels are the data's (matched by name when it was built)."""
        from ltx_nlp_hf.head_labels import check_scorable

        check_scorable(self.backbone_state, self.head)

    def export_hf(self, out: Path) -> None:
        """Write a folder ``from_pretrained`` (and ``pipeline``, where one exists) loads."""
        out.mkdir(parents=True, exist_ok=True)
        peft_note: dict[str, Any] = {}
        if is_peft(self.backbone):  # the adapter (peft's format) or the merged model
            export = self.backbone_state.get("peft", {}).get("export", "adapter")
            peft_note = save_export(self.backbone, out, export)
        else:
            self.backbone.save_pretrained(out)
        if self.tokenizer is not None:
            self.tokenizer.save_pretrained(out)
        note = {
            "ltx_task": type(self).__name__,
            "head": self.head,
            "pipeline": self.pipeline_task,
            "load_with": f"transformers.{self.auto_class_name()}.from_pretrained",
            **peft_note,
        }
        (out / "ltx_export.json").write_text(json.dumps(note, indent=2) + "\n", encoding="utf-8")

    # -- PEFT checkpoints: the trainable weights, the base model by reference ----------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        if is_peft(self.backbone):
            filter_checkpoint(self, checkpoint)

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> Any:
        if is_peft(self.backbone):
            return load_partial(self, state_dict, strict)
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def auto_class_name(self) -> str:
        from ltx_nlp_hf.backbones import HEADS

        return HEADS[self.head]

    # -- predict helpers -----------------------------------------------------------
    def data_setting(self, key: str, default: Any = None) -> Any:
        """A setting of the checkpoint's dataset section (its columns, file format, ...)."""
        value = (self.run_config.get("dataset") or {}).get(key)
        return default if value is None else value

    def read_predict_file(self, source: str) -> Iterator[tuple[Any, dict[str, Any]]]:
        """Rows of a file in the formats and columns of this task's training data, for a
        checkpoint whose dataset reads no prediction files itself (this plugin's datasets
        do, with the same reader: :meth:`~ltx_nlp_hf.data.base.HFDataModule.predict_records`)."""
        from ltx_nlp_hf.data.readers import iter_predict_records

        records = iter_predict_records(source, self.run_config.get("dataset") or {})
        return self.inputs_from_records(records, source)

    def predict_input_from_record(self, record: Mapping[str, Any]) -> Any:
        """One input of :meth:`predict_batch` from a row of an input file."""
        return record[self.data_setting("text_column", "text")]

    def predict_input_length(self, item: Any) -> int:
        """Characters of the input's text(s): a cheap stand-in for its tokens."""
        if isinstance(item, str):
            return len(item)
        if isinstance(item, Mapping):
            return sum(self.predict_input_length(v) for v in item.values())
        if isinstance(item, (list, tuple)):
            return sum(self.predict_input_length(v) for v in item)
        return 0

    def _generate_ids(self, **kwargs: Any) -> torch.Tensor:
        """``backbone.generate(**kwargs)``: the generated token ids."""
        # transformers' PreTrainedModel does not inherit GenerationMixin (the generating heads,
        # seq2seq and causal LM, do), and generate returns a GenerateOutput only with
        # return_dict_in_generate, which no caller sets.
        generated = cast("GenerationMixin", self.backbone).generate(**kwargs)
        return cast(torch.Tensor, generated)

    def _require_tokenizer(self) -> Any:
        if self.tokenizer is None:
            raise LtxError("This checkpoint's run has no tokenizer, so it cannot read text inputs.")
        return self.tokenizer

    def _encode(self, *texts: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        tok = self._require_tokenizer()
        enc = tok(
            *texts,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=self.handoff.max_length,
            **kwargs,
        )
        return {k: v.to(self.device) for k, v in enc.items()}
