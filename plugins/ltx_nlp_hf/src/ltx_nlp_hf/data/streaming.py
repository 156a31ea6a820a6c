"""Streaming splits (``dataset.streaming: true``): data read as it is trained on, never whole.

Rows come from Hugging Face ``datasets`` iterable datasets (``load_dataset(...,
streaming=True)`` over the configured files, or the hub dataset), are shuffled with a
buffer (``IterableDataset.shuffle(seed=, buffer_size=)``, reseeded every epoch by
``set_epoch``), split between every process *and* every loader worker of the run
(``split_dataset_by_node`` over ``ranks × workers`` consumers), and tokenised on the fly
by the family's own batch function, so memory stays flat whatever the file's size.

Why ltx splits by consumer rather than leaving the workers to ``datasets``: ``datasets``
gives each loader worker whole shards, and a single text file is one shard, so every
worker but one would sit idle; and it applies a node split after every ``.map``, so each
consumer would tokenise the whole stream. Here the split comes first (one row in
``ranks × workers`` for a single file, whole files when there are enough of them) and
each consumer tokenises only its own rows.

Resuming: :class:`StreamLoader` is a stateful loader (Lightning saves its
``state_dict()`` in every checkpoint): the epoch and how many examples each worker has
delivered *and trained*. On ``--resume`` each worker leaves out exactly that many
examples of its (deterministic) share, so no example is trained twice or skipped. The
buffer shuffle of ``datasets`` is why this counts examples instead of saving the
iterable's own ``state_dict()``: that one drops the examples that sat in the shuffle
buffer when it was saved.

In a multi-process run every process must take the same number of steps; an epoch ends
when the first process runs out of examples (the others leave out their last few).
"""

from __future__ import annotations

import logging
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from ltx_core.errors import LtxError

__all__ = ["StreamLoader", "StreamSplit", "held_out", "open_stream"]

log = logging.getLogger(__name__)

#: ``datasets``' builder and options for each of ltx's file formats.
BUILDERS: dict[str, tuple[str, dict[str, Any]]] = {
    "text": ("text", {}),
    "csv": ("csv", {}),
    "tsv": ("csv", {"delimiter": "\t", "quoting": 3}),  # 3: csv.QUOTE_NONE, as ltx reads TSV
    "json": ("json", {}),
    "jsonl": ("json", {}),
    "parquet": ("parquet", {}),
}


def held_out(text: Any, fraction: float) -> bool:
    """Whether a row belongs to the validation share: decided by its content alone, so the
    same rows are held out whatever the number of processes, workers or epochs."""
    return zlib.crc32(str(text).encode("utf-8")) % 10_000 < round(fraction * 10_000)


def open_stream(
    path: str | Path, file_format: str, *, text_column: str, json_field: str | None = None
) -> Any:
    """A data file as a ``datasets`` iterable dataset of rows (nothing read yet)."""
    import datasets

    from ltx_nlp_hf.data.readers import detect_format

    p = Path(path).expanduser()
    if not p.is_file():
        raise LtxError(f"The data file '{p}' does not exist.")
    fmt = detect_format(p, file_format)
    if fmt not in BUILDERS:
        raise LtxError(
            f"dataset.streaming reads {', '.join(BUILDERS)} files, not {fmt} ('{p}'); set "
            "dataset.streaming=false to read it whole."
        )
    builder, options = BUILDERS[fmt]
    if fmt == "json" and json_field:
        options = {**options, "field": json_field}
    rows = datasets.load_dataset(
        builder, data_files={"train": str(p)}, split="train", streaming=True, **options
    )
    if fmt == "text":
        if text_column != "text":
            rows = rows.rename_column("text", text_column)
        # Blank lines are no examples (as when a text file is read whole); dropped before
        # the rows are shared out, so each consumer gets as many examples.
        rows = rows.filter(_HasText(text_column))
    return rows


class _HasText:
    """A row filter: the column holds some text (a class: workers may pickle it)."""

    def __init__(self, column: str) -> None:
        self.column = column

    def __call__(self, row: dict[str, Any]) -> bool:
        value = row.get(self.column)
        return isinstance(value, str) and bool(value.strip())


def _consumer(rank: int, world_size: int) -> tuple[int, int, int]:
    """``(consumer index, consumers, worker id)`` of the calling loader worker."""
    info = get_worker_info()
    worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
    return rank * workers + worker, world_size * workers, worker


def _dist() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


class StreamSplit(IterableDataset[dict[str, Any]]):
    """One split as a stream of tokenised examples, this consumer's share only.

    Args:
        rows: A ``datasets`` iterable dataset of untokenised rows.
        tokenise: The family's batch function (column lists in, example columns out).
        seed: The run's seed (the shuffle's).
        shuffle_buffer: Rows in the shuffle buffer; 0 or ``None``: in file order.
        batch_rows: Rows tokenised at a time.
    """

    def __init__(
        self,
        rows: Any,
        tokenise: Callable[[dict[str, list[Any]]], dict[str, list[Any]]],
        *,
        seed: int,
        shuffle_buffer: int | None = None,
        batch_rows: int = 256,
    ) -> None:
        self.rows = rows
        self.tokenise = tokenise
        self.seed = seed
        self.shuffle_buffer = shuffle_buffer
        self.batch_rows = batch_rows
        self.epoch = 0
        #: This process's rank and the world size; ``None``: from torch.distributed.
        self.rank: int | None = None
        self.world_size: int | None = None
        #: Examples each worker leaves out at the start of this epoch (a resumed run).
        self.skip: dict[int, int] = {}

    def shard_rows(self) -> Any:
        """This consumer's rows for the current epoch (shuffled, then split)."""
        from datasets.distributed import split_dataset_by_node

        dist_rank, dist_world = _dist()
        rank = dist_rank if self.rank is None else self.rank
        world = dist_world if self.world_size is None else self.world_size
        node, consumers, _ = _consumer(rank, world)
        rows = self.rows
        if self.shuffle_buffer:
            rows = rows.shuffle(seed=self.seed, buffer_size=self.shuffle_buffer)
        mine = split_dataset_by_node(rows, rank=node, world_size=consumers)
        # After the split: the split dataset starts again at epoch 0.
        mine.set_epoch(self.epoch)
        return mine

    def __iter__(self) -> Iterator[dict[str, Any]]:
        _, _, worker = _consumer(0, 1)
        skip = self.skip.get(worker, 0)
        # .iter() rather than iterating the dataset: inside a loader worker, datasets'
        # own __iter__ would hand out whole shards once more.
        for batch in self.shard_rows().iter(batch_size=self.batch_rows):
            out = self.tokenise(batch)
            columns = list(out)
            count = len(out[columns[0]]) if columns else 0
            if skip >= count:
                skip -= count
                continue
            for i in range(skip, count):
                yield {k: out[k][i] for k in columns}
            skip = 0


class _Tagged:
    """Collate in the worker, and say which worker made the batch and of how many examples."""

    def __init__(self, collate: Callable[[list[Any]], Any] | None) -> None:
        from torch.utils.data import default_collate

        self.collate = collate or default_collate

    def __call__(self, rows: list[Any]) -> tuple[Any, int, int]:
        info = get_worker_info()
        return self.collate(rows), info.id if info is not None else 0, len(rows)


class StreamLoader(DataLoader[Any]):
    """The training loader of a streamed split; its position is saved in checkpoints.

    ``progress`` returns ``(epoch, batches trained in it)`` from the running trainer (the
    loader has handed out more: Lightning fetches ahead), or ``None`` outside a trainer.
    """

    def __init__(
        self,
        dataset: StreamSplit,
        *,
        batch_size: int,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        progress: Callable[[], tuple[int, int] | None] = lambda: None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("persistent_workers", None)  # workers get the new epoch and skip each epoch
        super().__init__(dataset, batch_size=batch_size, collate_fn=_Tagged(collate_fn), **kwargs)
        self.progress = progress
        self.stream = dataset
        self._epoch = -1
        self._own_epochs = 0
        self._delivered: dict[int, int] = {}
        self._recent: deque[tuple[int, int]] = deque(maxlen=64)
        self._yielded = 0
        self._base = 0
        self._pending: dict[str, Any] | None = None

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        progress = self.progress()
        epoch = progress[0] if progress is not None else self._own_epochs
        self._own_epochs = epoch + 1
        skip: dict[int, int] = {}
        pending, self._pending = self._pending, None
        if pending is not None and int(pending["epoch"]) == epoch:
            if (
                int(pending["num_workers"]) == self.num_workers
                and int(pending["world_size"]) == _dist()[1]
            ):
                skip = {int(k): int(v) for k, v in pending["examples"].items()}
            else:
                log.warning(
                    "Resuming a streamed epoch with another number of loader workers or "
                    "processes: the epoch starts again from its first example."
                )
        self._epoch = epoch
        # Lightning's count of trained batches goes on from the checkpoint's in a resumed
        # epoch; what this iteration hands out is counted from here.
        self._base = progress[1] if progress is not None and skip else 0
        self._delivered = dict(skip)
        self._recent.clear()
        self._yielded = 0
        self.stream.epoch, self.stream.skip = epoch, skip
        yield from self._equal_steps(super().__iter__())

    def _equal_steps(self, batches: Iterator[tuple[Any, int, int]]) -> Iterator[Any]:
        """Hand out batches, stopping every process when the first runs out (DDP needs the
        same number of steps in each)."""
        world = _dist()[1]
        device = None
        if world > 1 and torch.distributed.get_backend() == "nccl":
            device = torch.device("cuda", torch.cuda.current_device())
        while True:
            item = next(batches, None)
            if world > 1:
                have = torch.tensor([0 if item is None else 1], device=device)
                torch.distributed.all_reduce(have, op=torch.distributed.ReduceOp.MIN)
                if int(have.item()) == 0:
                    return
            if item is None:
                return
            batch, worker, count = item
            self._delivered[worker] = self._delivered.get(worker, 0) + count
            self._recent.append((worker, count))
            self._yielded += 1
            yield batch

    def state_dict(self) -> dict[str, Any]:
        """The epoch and the examples each worker delivered that were trained on."""
        examples = dict(self._delivered)
        progress = self.progress()
        trained = progress[1] - self._base if progress is not None else self._yielded
        ahead = max(0, self._yielded - trained)  # fetched ahead, not trained yet
        for worker, count in list(self._recent)[len(self._recent) - ahead :] if ahead else []:
            examples[worker] -= count
        return {
            "epoch": self._epoch,
            "examples": {str(k): v for k, v in examples.items()},
            "num_workers": self.num_workers,
            "world_size": _dist()[1],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Continue the saved epoch after what was trained (at the next ``iter``)."""
        self._pending = dict(state_dict)


class _HeldOut:
    """A row filter (a class, not a lambda: loader workers may need to pickle it)."""

    def __init__(self, column: str, fraction: float, keep: bool) -> None:
        self.column, self.fraction, self.keep = column, fraction, keep

    def __call__(self, row: dict[str, Any]) -> bool:
        return held_out(row.get(self.column), self.fraction) == self.keep


def _hub_streams(cfg: Any, sources: dict[str, str]) -> dict[str, Any]:
    import datasets

    from ltx_nlp_hf.hub import hub_offline

    label = cfg.hub_path + (f" ({cfg.hub_name})" if cfg.hub_name else "")
    if hub_offline() and not datasets.config.HF_HUB_OFFLINE:
        raise LtxError(
            f"The hub dataset '{label}' cannot be streamed: the Hugging Face Hub is not "
            "reachable; set dataset.train_file to local files."
        )
    try:
        loaded = datasets.load_dataset(cfg.hub_path, cfg.hub_name, streaming=True)
    except Exception as exc:  # the hub client raises many types; all mean "not loaded"
        raise LtxError(
            f"Could not stream the hub dataset '{label}' ({type(exc).__name__}); set "
            "dataset.train_file to local files."
        ) from None
    out = {}
    for split, hub_split in (("train", "train"), ("validation", cfg.hub_validation_split),
                             ("test", "test")):  # fmt: skip
        if hub_split in loaded:
            out[split] = loaded[hub_split]
            sources[split] = f"hub dataset '{label}', split '{hub_split}' (streamed)"
    if "train" not in out:
        raise LtxError(f"The hub dataset '{label}' has no 'train' split.")
    return out


def _check_rows(rows: Any, column: str, what: str) -> None:
    """The first row says whether a stream holds the text column (reading nothing more)."""
    first = next(iter(rows.take(1)), None)
    if first is None:
        raise LtxError(f"The {what} is empty.")
    if column not in first:
        raise LtxError(
            f"The {what} has no column '{column}' (dataset.text_column); its columns are: "
            f"{', '.join(first)}."
        )


def stream_splits(dm: Any) -> dict[str, StreamSplit]:
    """The streamed splits of a language-modelling data module (``dm.config.streaming``).

    Without a validation file, ``validation_split`` of the rows is held out by their
    content's hash (a random split needs the whole data; this one needs one row at a time).
    """
    from ltx_nlp_hf.data.base import SPLIT_NAMES

    cfg = dm.config
    sources: dict[str, str] = dm._sources
    named = {"train": cfg.train_file, "validation": cfg.validation_file, "test": cfg.test_file}
    if cfg.train_file is None and (cfg.validation_file or cfg.test_file):
        raise LtxError(
            "dataset.validation_file and dataset.test_file need dataset.train_file as well."
        )
    rows: dict[str, Any] = {}
    if cfg.train_file is not None:
        for split, path in named.items():
            if path is not None:
                rows[split] = open_stream(
                    path, cfg.file_format, text_column=cfg.text_column, json_field=cfg.json_field
                )
                sources[split] = f"'{Path(path).expanduser()}' (streamed)"
    elif cfg.hub_path is not None:
        rows = _hub_streams(cfg, sources)
    else:
        raise LtxError(
            f"The dataset '{getattr(cfg, 'name', 'files')}' has no data: set "
            "dataset.train_file (or dataset.hub_path) to stream from."
        )
    for split, stream in rows.items():
        _check_rows(stream, cfg.text_column, f"{SPLIT_NAMES[split]} data ({sources[split]})")
    if "validation" not in rows:
        train = rows["train"]
        rows["validation"] = train.filter(_HeldOut(cfg.text_column, cfg.validation_split, True))
        rows["train"] = train.filter(_HeldOut(cfg.text_column, cfg.validation_split, False))
        sources["validation"] = (
            f"{cfg.validation_split:.0%} of {sources['train']} (held out by content hash)"
        )
    limits = {
        "train": cfg.limit_train_samples,
        "validation": cfg.limit_val_samples,
        "test": cfg.limit_test_samples,
    }
    out = {}
    for split, stream in rows.items():
        if limits[split] is not None:
            stream = stream.take(limits[split])
        out[split] = StreamSplit(
            stream,
            dm.batch_tokeniser(split),
            seed=dm.seed,
            shuffle_buffer=cfg.shuffle_buffer if split == "train" else None,
        )
    return out


def _progress(dm: Any) -> tuple[int, int] | None:
    trainer = dm.trainer
    if trainer is None:
        return None
    current = trainer.fit_loop.epoch_loop.batch_progress.current
    return trainer.current_epoch, int(current.processed)


def stream_loader(dm: Any, split: str) -> DataLoader[Any]:
    """The loader of a streamed split: resumable for training, plain for evaluation."""
    cfg = dm.config
    if split not in dm.splits:
        return []  # type: ignore[return-value]  # Lightning's "no loader"
    stream = dm.splits[split]
    common = {
        "collate_fn": dm.collate_fn(split),
        "num_workers": cfg.num_workers,
        "pin_memory": dm.pin_memory,
    }
    if split == "train":
        return StreamLoader(
            stream, batch_size=cfg.batch_size, progress=lambda: _progress(dm), **common
        )
    return DataLoader(stream, batch_size=cfg.eval_batch_size or cfg.batch_size, **common)


def check_steps(trainer_config: Any) -> None:
    """A stream's length is unknown until it is read: the run is counted in steps."""
    if trainer_config.max_steps is None or trainer_config.max_steps <= 0:
        raise LtxError(
            "dataset.streaming reads data of unknown length, so the run is counted in "
            "optimizer steps: pass --max-steps N (trainer.max_steps)."
        )
