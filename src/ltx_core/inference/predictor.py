"""``Predictor``: a checkpoint loaded once, predicting many times — the one code path of
``ltx predict`` (arguments, files, standard input) and ``ltx serve`` (requests).

A task predicts with :meth:`LtxTask.predict_batch` (one batch of checked inputs in, one
JSON-able result per input out) and declares its options as a pydantic model
(:attr:`LtxTask.predict_options`).

Two ways through:

- :meth:`Predictor.predict` — one batch in memory (the server, command-line inputs),
  on one device with Lightning Fabric's device and precision handling.
- :meth:`Predictor.predict_rows` — a stream of rows (a file of any length), batched
  by similar length within a window, through Lightning's ``Trainer.predict`` (so
  several devices share the rows), results written in input order as they finish.

A file's rows come from :meth:`Predictor.read_input`: the checkpoint's dataset reads
it when it knows the format (:meth:`LtxDataModule.predict_records`: the format it
trains on, one reader for both), else the task (:meth:`LtxTask.read_predict_file`).
"""

from __future__ import annotations

import copy
import itertools
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pydantic import BaseModel
from torch.utils.data import DataLoader

from ltx_core.data import LtxDataModule
from ltx_core.engine.environment import check_accelerator, quiet_lightning
from ltx_core.engine.precision import resolve_inference_precision
from ltx_core.errors import LtxError
from ltx_core.inference.loading import load_checkpoint
from ltx_core.inference.options import NoPredictOptions, parse_predict_options
from ltx_core.inference.streaming import Collect, PredictModule, Rows, StderrBar, world_size

__all__ = ["Predictor", "options_model_of"]

#: Rows sorted together by length: big enough to group similar lengths, small enough
#: that memory does not grow with the input (batch size x this many rows).
WINDOW_BATCHES = 64


def options_model_of(task: Any, spec: Any = None) -> type[BaseModel]:
    """The task's typed options: its class's ``predict_options``, else none.

    The task's spec names the same model as a string (so ``ltx info`` lists it without
    torch); when both are given they must agree, and a plugin whose registration and
    class disagree is told so here rather than showing one set of options and taking
    another.
    """
    cls = task if isinstance(task, type) else type(task)
    declared = getattr(cls, "predict_options", None)
    model = (
        declared
        if isinstance(declared, type) and issubclass(declared, BaseModel)
        else NoPredictOptions
    )
    registered = spec.load_predict_options() if getattr(spec, "predict_options", "") else None
    if registered is not None and registered is not model:
        raise LtxError(
            f"The task '{spec.name}' (plugin '{spec.plugin}') registers predict_options="
            f"'{spec.predict_options}' but its class {cls.__name__} declares "
            f"{getattr(model, '__name__', model)}; the plugin must name one model in both."
        )
    return model


class Predictor:
    """A checkpoint loaded once, ready to predict many times (CLI batches, server requests).

    Build it with :meth:`from_checkpoint`. ``predict`` is one batch in memory on one
    device; ``predict_rows`` streams any number of rows through ``Trainer.predict``.
    """

    def __init__(
        self,
        module: Any,
        resolved: Any,
        *,
        accelerator: str = "auto",
        devices: int | str | list[int] = 1,
        precision: str | None = None,
        batch_size: int | None = None,
        out_dir: str | Path = "predictions",
    ) -> None:
        self.module = module
        self.resolved = resolved
        self.task_name: str = resolved.task_spec.name
        self.options_model: type[BaseModel] = options_model_of(module, resolved.task_spec)
        self.accelerator = accelerator
        self.devices = devices
        #: The precision it predicts in, and why: ``precision`` as asked (``auto``: bf16
        #: autocast where the hardware has fast bf16 and the model is wide enough), else
        #: the task's default, else ``32-true``
        #: (:func:`~ltx_core.engine.precision.resolve_inference_precision`).
        self.precision, self.precision_reason = resolve_inference_precision(
            precision, accelerator, module
        )
        dataset_cfg = getattr(resolved.config, "dataset", None)
        self.batch_size = int(batch_size or getattr(dataset_cfg, "batch_size", None) or 32)
        #: Where the task writes files while predicting (pictures, ...).
        self.out_dir = Path(out_dir)
        module.prediction_dir = self.out_dir
        self._fabric: Any = None

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path,
        *,
        accelerator: str = "auto",
        devices: int | str | list[int] = 1,
        precision: str | None = None,
        batch_size: int | None = None,
        out_dir: str | Path = "predictions",
    ) -> Predictor:
        """Load an ltx checkpoint (weights, config and hand-off travel inside it).

        ``precision``: a Lightning precision, ``auto`` (bf16 where it pays), or ``None``
        for inference's default, ``32-true`` unless the task sets its own
        (:func:`~ltx_core.engine.precision.resolve_inference_precision`); the checkpoint's
        training precision is not used."""
        quiet_lightning()
        check_accelerator(accelerator, devices)
        module, resolved, _ = load_checkpoint(path)
        return cls(
            module,
            resolved,
            accelerator=accelerator,
            devices=devices,
            precision=precision,
            batch_size=batch_size,
            out_dir=out_dir,
        )

    def replica(self) -> Predictor:
        """Another predictor of the same model, for another thread on the same device:
        its own copy of the task (tokenizer, metrics, options) around the very same
        weights, so a second model thread costs no second model in memory. A fast
        tokenizer must not be shared between threads (transformers sets its padding and
        truncation at every call, and a concurrent call fails), hence the copy."""
        module = self.module
        shared = {id(t): t for t in itertools.chain(module.parameters(), module.buffers())}
        twin = copy.deepcopy(module, shared)  # the memo keeps every tensor as it is
        other = type(self)(
            twin,
            self.resolved,
            accelerator=self.accelerator,
            devices=self.devices,
            precision=str(self.precision),
            batch_size=self.batch_size,
            out_dir=self.out_dir,
        )
        other.precision, other.precision_reason = self.precision, self.precision_reason
        return other

    # -- describing ----------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """Task, dataset, backbone, labels, what an input is, the batch size, the precision
        it predicts in, and the options' JSON schema."""
        resolved = self.resolved
        cfg = resolved.config
        backbone = getattr(cfg, "backbone", None)
        model = None
        if backbone is not None:
            model = getattr(backbone, "pretrained_model_name_or_path", None) or getattr(
                backbone, "architecture", None
            )
        handoff = self.module.handoff.as_dict()
        labels = None
        for key in ("label_names", "class_names"):
            if handoff.get(key):
                labels = list(handoff[key])
                break
        if labels is None and handoff.get("id2label"):
            id2label = handoff["id2label"]
            labels = [id2label[k] for k in sorted(id2label, key=int)]
        return {
            "task": self.task_name,
            "dataset": resolved.spec_name("dataset"),
            "backbone": resolved.spec_name("backbone"),
            "model": model,
            "labels": labels,
            "input": getattr(type(self.module), "predict_input_doc", "a string"),
            "batch_size": self.batch_size,
            "precision": str(self.precision),
            "options": self.options_model.model_json_schema(),
        }

    # -- checking ------------------------------------------------------------
    def parse_options(self, raw: Mapping[str, Any] | BaseModel | None) -> BaseModel:
        """Validate options; ``LtxError`` with one sentence (nearest name for a typo)."""
        return parse_predict_options(self.options_model, raw, self.task_name)

    def check_inputs(self, raw: Sequence[Any]) -> list[Any]:
        """Validate inputs of one request (types/shape the task accepts); LtxError if bad."""
        if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence):
            raise LtxError("The inputs must be a list.")
        return list(self.module.check_predict_inputs(raw))

    # -- reading files -------------------------------------------------------
    def dataset_records(self, source: str) -> Iterable[Mapping[str, Any]] | None:
        """The records of ``source`` as the checkpoint's dataset reads them, or ``None``
        when it has no reader of prediction files (or the run had no dataset).

        The dataset's class comes from its spec, resolved by the qualified name the
        checkpoint recorded; no data module is built, so neither the tokenizer nor the
        training data is needed, only the saved dataset section.
        """
        spec = self.resolved.specs.get("dataset")
        if spec is None:
            return None
        cls = spec.load_target()
        # A plain LightningDataModule (not ltx's) has no such hook: the task reads the file.
        if not (isinstance(cls, type) and issubclass(cls, LtxDataModule)):
            return None
        return cls.predict_records(source, self.resolved.config.dataset)

    def read_input(self, source: str) -> Iterator[tuple[Any, dict[str, Any]]]:
        """``(input, record)`` pairs of ``ltx predict --input SOURCE``, in order: the
        dataset's records made inputs by the task, else the task's own reader."""
        records = self.dataset_records(source)
        if records is None:
            return iter(self.module.read_predict_file(source))
        return self.module.inputs_from_records(records, source)

    # -- predicting ----------------------------------------------------------
    def _setup_fabric(self) -> Any:
        if self._fabric is None:
            from lightning_fabric import Fabric

            # One batch in memory runs on one device: the first of a list of ids, else one.
            devices: Any = self.devices[:1] if isinstance(self.devices, list) else 1
            try:
                fabric = Fabric(
                    accelerator=self.accelerator,
                    devices=devices,
                    precision=self.precision,
                )
            except (ValueError, RuntimeError, TypeError) as exc:
                raise LtxError(
                    f"Cannot predict with {self.accelerator}/{self.precision}: {exc}"
                ) from None
            fabric.setup_module(self.module)
            self.module.eval()
            self._fabric = fabric
        return self._fabric

    def _run_batch(self, inputs: list[Any], options: BaseModel) -> list[Any]:
        """One batch through the task (already on its device and precision)."""
        with torch.no_grad():
            results = list(self.module.predict_batch(inputs, options))
        if len(results) != len(inputs):
            raise LtxError(
                f"The task '{self.task_name}' returned {len(results)} results for "
                f"{len(inputs)} inputs."
            )
        return results

    def predict(self, inputs: Sequence[Any], options: BaseModel | None = None) -> list[Any]:
        """One batch, in memory, in order: each result exactly what `ltx predict` prints
        (as a JSON-able object) for that input. Inputs are checked first."""
        items = self.check_inputs(inputs)
        opts = self.parse_options(options)
        if not items:
            return []
        fabric = self._setup_fabric()
        # Batches of similar length (as predict_rows forms them); results back in order.
        order = sorted(range(len(items)), key=lambda i: -self.module.predict_input_length(items[i]))
        out: list[Any] = [None] * len(items)
        with fabric.autocast():
            for start in range(0, len(order), self.batch_size):
                part = order[start : start + self.batch_size]
                results = self._run_batch([items[i] for i in part], opts)
                for i, r in zip(part, results, strict=True):
                    out[i] = r
        return out

    @contextmanager
    def running(self) -> Iterator[Any]:
        """The task on this predictor's device, under its precision, gradients off: for a
        task's own calls that are not :meth:`predict` (a server streaming a chat answer).
        Autocast is per thread: work the task hands to another thread runs without it."""
        fabric = self._setup_fabric()
        with torch.inference_mode(), fabric.autocast():
            yield self.module

    def predict_dataset(self, datamodule: Any, options: BaseModel | None = None) -> list[Any]:
        """The task's own prediction over its (set-up, checked) dataset, on this
        predictor's device and precision; files go to :attr:`out_dir`."""
        opts = self.parse_options(options)
        fabric = self._setup_fabric()
        with torch.no_grad(), fabric.autocast():
            return list(self.module.predict_dataset(datamodule, self.out_dir, opts))

    def predict_rows(
        self,
        make_rows: Callable[[], Iterable[tuple[Any, dict[str, Any]]]],
        emit: Callable[[Any], None],
        options: BaseModel | None = None,
        *,
        keep_columns: Sequence[str] = (),
        progress: bool = True,
    ) -> int:
        """Predict every row of a stream through ``Trainer.predict``; ``emit`` gets each
        result (with the kept input columns) in input order. Returns the rows predicted.

        ``make_rows()`` returns a fresh iterator of ``(input, record)`` (each process
        reads the rows and keeps its share). Memory stays flat: one window of rows is
        sorted at a time and results leave as soon as every earlier one has.
        """
        opts = self.parse_options(options)
        check = self.module.check_predict_inputs

        def checked() -> Iterator[tuple[Any, dict[str, Any]]]:
            for n, (item, record) in enumerate(make_rows()):
                try:
                    (item,) = check([item])
                except LtxError as exc:
                    raise LtxError(f"Row {n + 1} of the input: {exc}") from None
                yield item, record

        dataset = Rows(
            checked,
            batch_size=self.batch_size,
            length=self.module.predict_input_length,
            window=self.batch_size * WINDOW_BATCHES,
            keep=tuple(keep_columns),
        )
        parts_dir = os.environ.get("LTX_PREDICT_PARTS")
        own_parts = None
        if parts_dir is None and world_size(self.devices) > 1:
            own_parts = tempfile.mkdtemp(prefix="ltx-predict-")
            # Lightning's launcher starts the other ranks as copies of this command; they
            # find the same folder through the environment.
            os.environ["LTX_PREDICT_PARTS"] = parts_dir = own_parts
        collect = Collect(emit, Path(parts_dir) if parts_dir else None)
        callbacks: list[Any] = [collect]
        if progress:
            callbacks.append(StderrBar())
        trainer = pl.Trainer(
            accelerator=self.accelerator,
            devices=self.devices,
            precision=self.precision,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=progress,
            enable_model_summary=False,
            use_distributed_sampler=False,
            callbacks=callbacks,
        )
        self.module.eval()
        loader = DataLoader(dataset, batch_size=None, num_workers=0)
        try:
            trainer.predict(
                PredictModule(self.module, lambda batch: self._run_batch(batch, opts)),
                dataloaders=loader,
                return_predictions=False,
            )
        finally:
            if own_parts is not None:
                import shutil

                os.environ.pop("LTX_PREDICT_PARTS", None)
                shutil.rmtree(own_parts, ignore_errors=True)
        return collect.count
