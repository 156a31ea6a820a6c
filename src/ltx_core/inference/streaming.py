"""The machinery of :meth:`Predictor.predict_rows`: a stream of rows through Lightning's
``Trainer.predict``, each process predicting its share, results put back in input order
(several processes: a part file per rank, merged by index by the first).
"""

from __future__ import annotations

import heapq
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import TQDMProgressBar
from pytorch_lightning.callbacks.progress.tqdm_progress import Tqdm
from torch.utils.data import IterableDataset

from ltx_core.inference.batching import ReorderBuffer, windowed_batches

__all__ = ["Collect", "PredictModule", "Rows", "StderrBar", "world_size"]


class PredictModule(pl.LightningModule):
    """What ``Trainer.predict`` runs: the task's :meth:`predict_batch` on each batch."""

    def __init__(self, task: Any, run_batch: Callable[[list[Any]], list[Any]]) -> None:
        super().__init__()
        self.task = task
        self._run_batch = run_batch

    def predict_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> Any:
        indices, inputs, kept = batch
        return indices, self._run_batch(list(inputs)), kept


class Rows(IterableDataset):
    """Batches of ``(indices, inputs, kept columns)``, this process's share of the rows."""

    def __init__(self, make_rows: Callable[[], Iterable[tuple[Any, dict[str, Any]]]], **kw: Any):
        self._make_rows = make_rows
        self._kw = kw

    def __iter__(self) -> Iterator[Any]:
        dist = torch.distributed
        shard = (0, 1)
        if dist.is_available() and dist.is_initialized():
            shard = (dist.get_rank(), dist.get_world_size())
        yield from windowed_batches(self._make_rows(), shard=shard, **self._kw)


class StderrBar(TQDMProgressBar):
    """Lightning's bar on standard error: standard output carries the results."""

    def init_predict_tqdm(self) -> Tqdm:
        return Tqdm(
            desc="Predicting",
            position=2 * self.process_position,
            disable=self.is_disabled,
            leave=True,
            dynamic_ncols=True,
            file=sys.stderr,
            bar_format=self.BAR_FORMAT,
        )


class Collect(pl.Callback):
    """Puts each finished batch in input order and hands rows on as they are ready.

    One process: straight to ``emit``. Several: each rank writes its rows, in order, to
    its own part file; rank 0 merges the parts by index at the end.
    """

    def __init__(self, emit: Callable[[dict[str, Any]], None], parts: Path | None) -> None:
        self._emit = emit
        self._parts = parts
        self._buffer: ReorderBuffer | None = None
        self._part_file: Any = None
        self.count = 0

    def on_predict_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        rank, world = trainer.global_rank, trainer.world_size
        if world == 1:
            self._buffer = ReorderBuffer(lambda i, row: self._emit(row))
            return
        assert self._parts is not None
        self._part_file = (self._parts / f"rank{rank}.jsonl").open("w", encoding="utf-8")

        def to_part(i: int, row: dict[str, Any]) -> None:
            self._part_file.write(json.dumps([i, row], ensure_ascii=False, default=str) + "\n")

        self._buffer = ReorderBuffer(to_part, start=rank, stride=world)

    def on_predict_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        indices, results, kept = outputs
        assert self._buffer is not None
        rows = [_with_columns(r, k) for r, k in zip(results, kept, strict=True)]
        self._buffer.add(list(indices), rows)

    def on_predict_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        assert self._buffer is not None
        self._buffer.close()
        self.count = self._buffer.count
        if self._part_file is None:
            return
        self._part_file.close()
        trainer.strategy.barrier("ltx-predict-parts")
        if trainer.global_rank == 0:
            assert self._parts is not None
            files = [p.open(encoding="utf-8") for p in sorted(self._parts.glob("rank*.jsonl"))]
            try:
                streams = [(json.loads(line) for line in f) for f in files]
                self.count = 0
                for _, row in heapq.merge(*streams, key=lambda pair: pair[0]):
                    self._emit(row)
                    self.count += 1
            finally:
                for f in files:
                    f.close()
        trainer.strategy.barrier("ltx-predict-merged")


def _with_columns(result: Any, kept: Mapping[str, Any]) -> Any:
    if not kept:
        return result
    row = result if isinstance(result, dict) else {"output": result}
    # The carried input columns come first; the prediction's own fields win a clash.
    return {**kept, **row}


def world_size(devices: Any) -> int:
    if isinstance(devices, list):
        return len(devices)
    if isinstance(devices, int):
        return devices
    if isinstance(devices, str) and devices.isdigit():
        return int(devices)
    return 1
