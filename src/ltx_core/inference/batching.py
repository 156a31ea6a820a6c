"""Batches of similar length from a stream of rows, and results back in input order.

Rows are read a window at a time (``window`` rows), sorted by the task's length measure
inside the window and cut into batches, so batches pad little while at most one window
is held; :class:`ReorderBuffer` hands results on in input order as soon as every earlier
one has arrived. Torch-free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ltx_core.errors import LtxError

__all__ = ["ReorderBuffer", "windowed_batches"]


def windowed_batches(
    rows: Iterable[tuple[Any, dict[str, Any]]],
    batch_size: int,
    *,
    length: Callable[[Any], int],
    window: int,
    keep: Sequence[str] = (),
    shard: tuple[int, int] = (0, 1),
) -> Iterator[tuple[list[int], list[Any], list[dict[str, Any]]]]:
    """``(indices, inputs, kept columns)`` batches; within each window of rows, batches
    are formed longest first (similar lengths pad little; a too-long batch fails early).

    ``shard=(k, n)``: only rows whose index is ``k`` modulo ``n`` (one device's share).
    """
    if batch_size < 1:
        raise LtxError(f"--batch-size must be at least 1, not {batch_size}.")
    rank, world = shard
    pending: list[tuple[int, Any, dict[str, Any]]] = []
    checked_keep = False

    def flush() -> Iterator[tuple[list[int], list[Any], list[dict[str, Any]]]]:
        pending.sort(key=lambda r: -length(r[1]))
        for start in range(0, len(pending), batch_size):
            part = pending[start : start + batch_size]
            yield [r[0] for r in part], [r[1] for r in part], [r[2] for r in part]
        pending.clear()

    for index, (item, record) in enumerate(rows):
        if keep and not checked_keep:
            missing = [k for k in keep if k not in record]
            if missing:
                raise LtxError(
                    f"--keep-columns names {', '.join(repr(m) for m in missing)}, which the "
                    f"input does not have (its columns: {', '.join(map(str, record))})."
                )
            checked_keep = True
        if index % world != rank:
            continue
        kept = {k: record.get(k) for k in keep}
        pending.append((index, item, kept))
        if len(pending) >= window:
            yield from flush()
    yield from flush()


class ReorderBuffer:
    """Results arrive batch by batch in sorted order; they leave in input order.

    Holds only the results that wait for an earlier row (at most about one window).
    ``stride``: the step between this process's indices (its shard of the rows).
    """

    def __init__(self, emit: Callable[[int, Any], None], *, start: int = 0, stride: int = 1):
        self._emit = emit
        self._next = start
        self._stride = stride
        self._waiting: dict[int, Any] = {}
        self.count = 0

    def add(self, indices: Sequence[int], results: Sequence[Any]) -> None:
        if len(indices) != len(results):
            raise LtxError(
                f"The task returned {len(results)} results for a batch of {len(indices)} inputs; "
                "predict_batch must return one result per input."
            )
        for i, r in zip(indices, results, strict=True):
            self._waiting[i] = r
        while self._next in self._waiting:
            self._emit(self._next, self._waiting.pop(self._next))
            self._next += self._stride
            self.count += 1

    def close(self) -> None:
        if self._waiting:
            raise RuntimeError(f"{len(self._waiting)} results never found their place in order")
