"""``LtxTask``: the LightningModule base every task builds on.

It receives its backbone already built (from the backbone's own config and
the dataset's hand-off), builds the optimizer with decay / no-decay parameter
groups and the warm-up + decay schedule from their config models, counts what
throughput needs, and stores the run config in every checkpoint so
``ltx test --ckpt`` and ``ltx predict --ckpt`` need nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytorch_lightning as pl
import torch
from pydantic import BaseModel
from torch import nn

# TaskConfig lives in the torch-free config models; re-exported here for task authors.
from ltx_core.checkpoint import write_record
from ltx_core.config.models import OptimizerConfig, SchedulerConfig, TaskConfig
from ltx_core.errors import LtxError
from ltx_core.handoff import HandOff, Restore, declared_model
from ltx_core.optim.bf16 import bf16_updates_class, fp32_starts
from ltx_core.preview import DataPreview, default_preview

__all__ = ["LtxTask", "TaskConfig", "lr_lambda", "parameter_groups"]


def parameter_groups(
    model: nn.Module, weight_decay: float, no_decay: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Decay matrices; never decay biases, norm weights or 1-d parameters, nor named extras."""
    decay, rest = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim < 2 or any(s in name for s in no_decay):
            rest.append(p)
        else:
            decay.append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}]
    if rest:
        groups.append({"params": rest, "weight_decay": 0.0})
    return groups


def lr_lambda(cfg: SchedulerConfig, total_steps: int) -> Any:
    """The multiplier of the peak learning rate at each optimizer step."""
    total = max(1, int(total_steps))
    warmup = cfg.warmup_steps if cfg.warmup_steps is not None else int(cfg.warmup_fraction * total)
    warmup = min(warmup, total)
    floor = cfg.min_lr_ratio

    def factor(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        if cfg.name == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        if cfg.name == "linear":
            return floor + (1.0 - floor) * (1.0 - progress)
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


class LtxTask(pl.LightningModule):
    """Base task. Subclasses write the steps and may set ``monitor`` / ``monitor_mode``.

    Declare what the task reads from the dataset with a class annotation,
    ``handoff: MyData`` (a :class:`~ltx_core.handoff.HandOff` subclass): the core
    checks the dataset's hand-off against it before building anything, and
    ``self.handoff`` is that model.

    Args:
        config: The validated task section of the run config.
        backbone: The backbone, built by its factory from its config and the hand-off.
        handoff: The dataset's hand-off, as this task declares it.
        optimizer: The optimizer section.
        scheduler: The learning-rate schedule section.
        tokenizer: The run's tokenizer, if any.
        restore: Set when the task is rebuilt from a checkpoint (``None``: a fresh run).
    """

    #: Metric that picks the best checkpoint.
    monitor: str = "val_loss"
    monitor_mode: str = "min"
    #: What this task reads from the dataset (subclasses narrow the annotation).
    handoff: HandOff

    def __init__(
        self,
        config: TaskConfig,
        *,
        backbone: nn.Module,
        handoff: HandOff | Mapping[str, Any] | None = None,
        optimizer: OptimizerConfig | None = None,
        scheduler: SchedulerConfig | None = None,
        tokenizer: Any = None,
        restore: Restore | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.backbone = backbone
        self.handoff = (
            handoff
            if isinstance(handoff, HandOff)
            else declared_model(type(self)).model_validate(dict(handoff or {}))
        )
        self.restore = restore
        self.optimizer_config = optimizer or OptimizerConfig()
        self.scheduler_config = scheduler or SchedulerConfig()
        self.tokenizer = tokenizer
        #: The whole resolved run config, set by the core; saved in checkpoints.
        self.run_config: dict[str, Any] = {}
        #: What the backbone's factory saved about itself (``BuiltBackbone.state``).
        self.backbone_state: dict[str, Any] = {}
        #: Where ``ltx predict --output-dir`` points: a task that writes files while
        #: predicting (pictures, ...) writes them here.
        self.prediction_dir = Path("predictions")

    # -- hooks for the core ----------------------------------------------
    @classmethod
    def backbone_request(cls, config: Any) -> Any:
        """What this task asks of any backbone (e.g. which head), given its config.

        Passed to the backbone factory as ``request``; ``None`` asks for nothing.
        """
        return None

    @classmethod
    def preview(cls, datamodule: Any, split: str, limit: int, *, handoff: HandOff) -> DataPreview:
        """What ``ltx data preview`` shows of a split: its first ``limit`` examples as
        this task's model will see them, and the split's statistics.

        ``datamodule`` is set up and has ``split``; ``handoff`` is the dataset's hand-off
        as this task declares it. The default (:func:`~ltx_core.preview.default_preview`)
        decodes token ids with the data module's tokenizer, names labels from the
        hand-off and counts lengths, truncation at ``max_length`` and labels. Override it
        to show what only the task knows (the tokens its loss covers, as ``trained``;
        how it packs examples, as ``notes``), calling the default for the rest. A class
        method: previewing data builds no model.
        """
        return default_preview(datamodule, split, limit, handoff=handoff)

    @property
    def attached_trainer(self) -> pl.Trainer | None:
        """The Trainer running this task, or ``None`` outside ``fit``/``test``/``predict``."""
        return self._trainer

    @property
    def datamodule(self) -> Any:
        """The data module of the running Trainer (``None`` when there is none)."""
        trainer = self._trainer
        return getattr(trainer, "datamodule", None) if trainer is not None else None

    def batch_stats(self, batch: Any) -> tuple[int, int | None]:
        """``(samples, tokens)`` in a training batch, for throughput (tokens: None if n/a)."""
        first = batch
        while isinstance(first, (list, tuple)) and first:
            first = first[0]
        if isinstance(first, Mapping) and first:
            first = next(iter(first.values()))
        n = int(first.shape[0]) if isinstance(first, torch.Tensor) and first.ndim else 1
        return n, None

    def logs_this_step(self, progress_bar: bool = False) -> bool:
        """Whether a training-step ``self.log(..., on_step=True)`` would reach anyone.

        Loggers only write every ``log_every_n_steps``; in between, a logged value is
        read only by the progress bar (pass ``progress_bar=True`` for values shown
        there). Each ``self.log`` costs about a millisecond of Python, a few percent
        of a small model's step, so tasks skip the ones nobody reads.
        """
        trainer = self._trainer
        if trainer is None or not self.training:
            return True
        if progress_bar and trainer.progress_bar_callback is not None:
            return True
        every = int(getattr(trainer, "log_every_n_steps", 1))  # set by Trainer.__init__
        return (trainer.global_step + 1) % max(1, every) == 0

    def write_artifacts(self, artifacts: Path) -> None:
        """Called once on rank 0 after fit and test: write pictures, exports, ... into
        ``artifacts`` (the run's ``artifacts/`` folder, created for you)."""

    def prepare_evaluation(self) -> None:
        """Called by ``ltx test TASK`` (a model ltx did not train, built from the config
        rather than a checkpoint) before it is scored: raise ``LtxError`` with one sentence
        when its weights cannot be scored on this data (random weights, other labels).

        The default refuses: a task says it can score outside models by overriding this.
        """
        raise LtxError(
            f"The task '{type(self).__name__}' scores only models it trained; use "
            "ltx test --ckpt CHECKPOINT."
        )

    # -- prediction (ltx predict, ltx serve; see ltx_core.inference.predictor) ----------
    #: The typed options of ``ltx predict --set`` / ``ltx serve`` (a pydantic model,
    #: ``extra="forbid"``; unset: the task takes none).
    predict_options: ClassVar[type[BaseModel] | None] = None
    #: What one input is, for ``ltx info`` and the server's ``/info``.
    predict_input_doc: ClassVar[str] = "a string"
    #: The precision ``ltx test``, ``ltx predict`` and ``ltx serve`` use for this task when
    #: none is asked for: a Lightning precision, or ``"auto"`` (bf16 autocast where the
    #: hardware has fast bf16 and the model is wide enough, else fp32; for a task whose
    #: results were checked to hold in bf16). ``None``: the core's default, ``32-true``
    #: (:func:`~ltx_core.engine.precision.resolve_inference_precision`).
    inference_precision: ClassVar[str | None] = None

    def predict_batch(self, inputs: list[Any], options: Any) -> list[Any]:
        """Predict one batch of checked inputs (see :meth:`check_predict_inputs`): one
        JSON-able result per input, in order. Runs under ``torch.no_grad`` on the model's
        device; ``options`` is an instance of :attr:`predict_options`."""
        raise LtxError(f"The task '{type(self).__name__}' does not support 'ltx predict'.")

    def check_predict_inputs(self, raw: Sequence[Any]) -> list[Any]:
        """Validate and normalise the inputs of one request (raise ``LtxError`` if bad)."""
        bad = next((i for i, x in enumerate(raw) if not isinstance(x, str)), None)
        if bad is not None:
            raise LtxError(
                f"Input {bad} is not a string ({type(raw[bad]).__name__}); this task takes strings."
            )
        return list(raw)

    def read_predict_file(self, source: str) -> Iterator[tuple[Any, dict[str, Any]]]:
        """Stream ``(input, record)`` pairs from a file, folder or glob (``-``: standard
        input); ``record`` holds the row's columns for ``--keep-columns``.

        Used when the checkpoint's dataset does not read prediction files itself
        (:meth:`~ltx_core.data.LtxDataModule.predict_records` returns ``None``); the
        default reads plain inputs (:func:`~ltx_core.readers.read_plain_inputs`)."""
        from ltx_core.readers import read_plain_inputs

        return read_plain_inputs(source)

    def predict_input_from_record(self, record: Mapping[str, Any]) -> Any:
        """One input of :meth:`predict_batch` from a record of the dataset's reader
        (:meth:`~ltx_core.data.LtxDataModule.predict_records`); a missing column raises
        ``KeyError``. The default takes the ``input`` column, as the plain reader does."""
        return record["input"]

    def inputs_from_records(
        self, records: Iterable[Mapping[str, Any]], source: str
    ) -> Iterator[tuple[Any, dict[str, Any]]]:
        """``(input, record)`` pairs from the records of ``source``, in order, each
        input from :meth:`predict_input_from_record`; a row without a column the task
        reads is one sentence naming the row and its columns."""
        for n, record in enumerate(records, start=1):
            if not isinstance(record, Mapping):
                raise LtxError(
                    f"Row {n} of '{source}' is a {type(record).__name__}, not a record "
                    "(a mapping of columns)."
                )
            try:
                item = self.predict_input_from_record(record)
            except KeyError as exc:
                raise LtxError(
                    f"Row {n} of '{source}' has no column {exc} (its columns: "
                    f"{', '.join(map(str, record)) or 'none'}); set the dataset's column "
                    "options as for training."
                ) from None
            yield item, dict(record)

    def predict_input_length(self, item: Any) -> int:
        """A cheap size of one input: batches are formed of inputs of similar size."""
        return 0

    def predict_dataset(self, datamodule: Any, out_dir: Path, options: Any) -> list[Any]:
        """``ltx predict`` given no inputs, for a task that registers no ``examples``:
        predict over the checkpoint's own dataset and write any files (pictures, ...)
        into ``out_dir``; returns the JSON-able rows to print.

        ``datamodule`` is set up, and its hand-off already checked against the
        checkpoint's; ``options`` is an instance of :attr:`predict_options`.
        """
        raise LtxError(
            f"The task '{type(self).__name__}' needs inputs to predict on; pass them as "
            "arguments or with --input FILE."
        )

    # -- optimisation ------------------------------------------------------
    def bf16_update_mode(self) -> str:
        """How the optimizer updates bf16 weights in this run: ``optimizer.bf16_updates``
        under ``trainer.precision: bf16-true`` on one device or DDP, else ``plain`` (no
        bf16 weights; FSDP and DeepSpeed keep fp32 weights of their own under their
        mixed precision, which is what to use with them)."""
        trainer = self._trainer
        if trainer is None or str(trainer.precision) != "bf16-true":
            return "plain"
        strategy = type(trainer.strategy).__name__
        if strategy.startswith(("FSDP", "DeepSpeed", "ModelParallel")):
            return "plain"
        return self.optimizer_config.bf16_updates

    def setup(self, stage: str) -> None:
        """Before fitting, while the weights are still fp32: under ``bf16-true`` with
        master weights, keep them (a reference, not a copy; Lightning then casts the
        parameters to bf16) to start the optimizer's fp32 masters from, so training starts
        from the exact weights rather than their bf16 rounding. A subclass overriding this
        hook calls ``super().setup(stage)`` (otherwise masters start from bf16)."""
        if stage == "fit" and self.bf16_update_mode() == "master-weights":
            self._fp32_weights = {
                name: p.detach()
                for name, p in self.named_parameters()
                if p.requires_grad and p.dtype == torch.float32
            }

    def on_train_start(self) -> None:
        """Drop the fp32 weights :meth:`setup` kept, should the optimizer not have taken
        them (a subclass's own ``configure_optimizers``)."""
        self.__dict__.pop("_fp32_weights", None)

    def configure_optimizers(self) -> Any:
        cfg = self.optimizer_config
        groups = parameter_groups(self, cfg.weight_decay, cfg.no_decay)
        trainer = self._trainer
        options: dict[str, Any]
        cls: type[torch.optim.Optimizer]
        if cfg.name == "sgd":
            cls, options = torch.optim.SGD, {"lr": cfg.lr, "momentum": cfg.momentum}
        else:
            cls = torch.optim.AdamW if cfg.name == "adamw" else torch.optim.Adam
            options = {"lr": cfg.lr, "betas": cfg.betas, "eps": cfg.eps}
            # Fused AdamW runs on CUDA and (torch >= 2.4) on CPU; it is several times
            # faster per step than the per-parameter loop on both.
            if self.device.type in ("cuda", "cpu"):
                options["fused"] = True
            if (
                trainer is not None
                and trainer.gradient_clip_val
                and "mixed" in str(trainer.precision)
            ):
                # Lightning refuses to clip the gradients of a fused optimizer under mixed
                # precision (it would unscale them itself); foreach is the next fastest.
                options.pop("fused", None)
                options["foreach"] = True
        updates = self.bf16_update_mode()
        fp32_weights = self.__dict__.pop("_fp32_weights", {})
        if updates != "plain":
            # bf16 weights stepped in fp32 (ltx_core.optim.bf16): fp32 masters in the
            # optimizer's state, or stochastic rounding.
            cls = bf16_updates_class(cls)
            options["bf16_updates"] = updates
            options["fp32_weights"] = fp32_starts(self.named_parameters(), fp32_weights)
        opt = cls(groups, **options)
        total = trainer.estimated_stepping_batches if trainer is not None else 1
        if not math.isfinite(total):
            total = 1
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(self.scheduler_config, int(total)))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def configure_gradient_clipping(
        self,
        optimizer: torch.optim.Optimizer,
        gradient_clip_val: float | None = None,
        gradient_clip_algorithm: str | None = None,
    ) -> None:
        """Clip as the Trainer asks; under FSDP by the sharded module's own norm.

        Lightning's FSDP precision plugin refuses to clip by norm (the norm spans every
        rank's shard), so ``trainer.gradient_clip_val`` with ``--strategy fsdp`` would stop
        the run; the wrapped module's ``clip_grad_norm_`` computes it across shards."""
        trainer = self._trainer
        if (
            gradient_clip_val
            and gradient_clip_algorithm in (None, "norm")
            and trainer is not None
            and isinstance(trainer.strategy, pl.strategies.FSDPStrategy)
        ):
            trainer.strategy.model.clip_grad_norm_(gradient_clip_val)  # type: ignore[union-attr,operator]
            return
        super().configure_gradient_clipping(optimizer, gradient_clip_val, gradient_clip_algorithm)

    # -- checkpoints -------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Every checkpoint of the task carries ltx's record (run config, hand-off, backbone
        state), whichever Trainer saves it: the checkpoint alone rebuilds the model."""
        write_record(
            checkpoint,
            config=self.run_config,
            handoff=self.handoff.as_dict(),
            backbone_state=self.backbone_state,
        )
