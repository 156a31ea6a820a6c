"""Streaming input and output of ``ltx predict``: rows in, batches of similar length,
results out in input order, in bounded memory however long the input.

Torch-free (the ``IterableDataset`` that feeds Lightning lives in
:mod:`ltx_core.inference.predictor`): reading, windowed length sorting, reordering and writing
are plain Python, tested without a model.

- Inputs: a task reads its own files (:meth:`LtxTask.read_predict_file`); the default
  here reads one input per line of a text file, or an ``input`` column of JSON lines,
  CSV, TSV or Parquet; ``-`` is JSON lines on standard input.
- Batching: rows are read a window at a time (``window`` rows), sorted by the task's
  length measure inside the window and cut into batches, so batches pad little while
  at most one window is held.
- Output: JSON lines (default, standard output or ``.jsonl``/``.json`` file), CSV or
  Parquet by the file's extension; a file is written under a temporary name and moved
  into place at the end, so a failed run leaves no half file.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from ltx_core.errors import LtxError

__all__ = [
    "OUTPUT_FORMATS",
    "ReorderBuffer",
    "ResultWriter",
    "expand_paths",
    "iter_jsonl",
    "open_writer",
    "output_format",
    "read_plain_inputs",
    "stdin_lines",
    "windowed_batches",
]

OUTPUT_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv",
                  ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}  # fmt: skip


# -- reading -------------------------------------------------------------------------


def iter_jsonl(lines: Iterable[str], where: str) -> Iterator[Any]:
    """JSON values, one per non-empty line; a bad line is one sentence naming it."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            raise LtxError(f"Line {n} of {where} is not JSON ({exc.msg}).") from None


def expand_paths(source: str, suffixes: Sequence[str] | None = None) -> list[Path]:
    """A file, a folder (its files, sorted; only ``suffixes`` if given) or a glob."""
    p = Path(source).expanduser()
    if p.is_file():
        return [p]
    if p.is_dir():
        files = sorted(
            f
            for f in p.rglob("*")
            if f.is_file()
            and not f.name.startswith(".")
            and (suffixes is None or f.suffix.lower() in suffixes)
        )
        if not files:
            raise LtxError(f"The folder '{p}' holds no input files.")
        return files
    if glob.has_magic(source):
        files = sorted(Path(f) for f in glob.glob(os.path.expanduser(source), recursive=True))
        files = [f for f in files if f.is_file()]
        if not files:
            raise LtxError(f"No file matches '{source}'.")
        return files
    raise LtxError(f"The input '{source}' does not exist.")


def stdin_lines() -> Iterator[str]:
    # Read as UTF-8 whatever the locale: JSON lines are UTF-8.
    stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline=None)
    yield from stream


def read_plain_inputs(source: str, column: str = "input") -> Iterator[tuple[Any, dict[str, Any]]]:
    """The default input reader: lines of a text file, or ``column`` of a table file.

    JSON lines may also hold bare values (strings) rather than objects.
    """
    if source == "-":
        rows: Iterable[Any] = iter_jsonl(stdin_lines(), "standard input")
        yield from _plain_rows(rows, column, "standard input")
        return
    for path in expand_paths(source):
        suffix = path.suffix.lower()
        if suffix in (".jsonl", ".ndjson", ".json"):
            with path.open(encoding="utf-8-sig") as f:
                yield from _plain_rows(iter_jsonl(f, f"'{path}'"), column, f"'{path}'")
        elif suffix in (".csv", ".tsv"):
            with path.open(encoding="utf-8-sig", newline="") as f:
                reader = csv.DictReader(f, delimiter="\t" if suffix == ".tsv" else ",")
                yield from _plain_rows(reader, column, f"'{path}'")
        elif suffix in (".parquet", ".pq"):
            yield from _plain_rows(iter_parquet(path), column, f"'{path}'")
        else:
            with path.open(encoding="utf-8-sig") as f:
                for line in f:
                    line = line.rstrip("\r\n")
                    if line.strip():
                        yield line, {column: line}


def _plain_rows(
    rows: Iterable[Any], column: str, where: str
) -> Iterator[tuple[Any, dict[str, Any]]]:
    for n, row in enumerate(rows, start=1):
        if isinstance(row, dict):
            if column not in row:
                raise LtxError(
                    f"Row {n} of {where} has no '{column}' column (its columns: "
                    f"{', '.join(map(str, row)) or 'none'})."
                )
            yield row[column], row
        else:
            yield row, {column: row}


def iter_parquet(path: Path, batch_rows: int = 4096) -> Iterator[dict[str, Any]]:
    """The rows of a Parquet file, a record batch at a time (never the whole table)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow comes with the NLP plugin
        raise LtxError("Reading Parquet needs pyarrow: pip install pyarrow.") from None
    try:
        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches(batch_size=batch_rows):
            yield from batch.to_pylist()
    except OSError as exc:
        raise LtxError(f"'{path}' is not a readable Parquet file ({exc}).") from None


# -- batching ------------------------------------------------------------------------


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


# -- writing -------------------------------------------------------------------------


def output_format(path: str | None) -> str:
    """``jsonl``, ``csv``, ``tsv`` or ``parquet`` from the output file's extension."""
    if path is None or path == "-":
        return "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        known = ", ".join(sorted(OUTPUT_FORMATS))
        raise LtxError(
            f"Cannot tell the output format of '{path}' from its extension; use one of {known}."
        )
    return OUTPUT_FORMATS[suffix]


def _cell(value: Any) -> Any:
    # Lists and objects (scores per label, tags) go into a CSV cell as JSON.
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False)
    return value


class ResultWriter:
    """Writes result rows (dicts) one at a time; :meth:`close` finishes the file."""

    def __init__(self, fmt: str, stream: IO[str] | None, path: Path | None) -> None:
        self.fmt = fmt
        self._stream = stream
        self._path = path
        self._fields: list[str] | None = None
        self._csv: Any = None
        self._parquet: Any = None
        self._schema: Any = None
        self._rows: list[dict[str, Any]] = []

    def write(self, row: Any) -> None:
        if not isinstance(row, dict):
            row = {"output": row}
        if self.fmt == "jsonl":
            assert self._stream is not None
            self._stream.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            return
        if self._fields is None:
            self._fields = list(row)
        elif set(row) - set(self._fields):
            extra = ", ".join(sorted(set(row) - set(self._fields)))
            raise LtxError(
                f"A result has the fields {extra}, which the first one did not have; a "
                f"{self.fmt.upper()} file needs the same columns in every row: write JSON lines."
            )
        if self.fmt in ("csv", "tsv"):
            if self._csv is None:
                assert self._stream is not None
                self._csv = csv.DictWriter(
                    self._stream,
                    fieldnames=self._fields,
                    delimiter="\t" if self.fmt == "tsv" else ",",
                    lineterminator="\n",
                )
                self._csv.writeheader()
            self._csv.writerow({k: _cell(v) for k, v in row.items()})
            return
        self._rows.append(row)
        if len(self._rows) >= 4096:
            self._flush_parquet()

    def _flush_parquet(self) -> None:
        if not self._rows:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._parquet is None:
            table = pa.Table.from_pylist(self._rows)
            self._schema = table.schema
            self._parquet = pq.ParquetWriter(str(self._path), self._schema)
        else:
            table = pa.Table.from_pylist(self._rows, schema=self._schema)
        self._parquet.write_table(table)
        self._rows = []

    def close(self) -> None:
        if self.fmt == "parquet":
            self._flush_parquet()
            if self._parquet is not None:
                self._parquet.close()
            else:  # no rows at all: an empty file with no columns is still a Parquet file
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.table({}), str(self._path))
        if self._stream is not None:
            self._stream.flush()


class open_writer:  # lower case: used like open(), as a context manager
    """``with open_writer(path, overwrite=...) as w: w.write(row)``.

    ``path`` ``None`` or ``-``: JSON lines on standard output. A file is written under a
    temporary name next to it and renamed at the end; an existing file is refused
    unless ``overwrite``.
    """

    def __init__(self, path: str | None, *, overwrite: bool = False) -> None:
        self.fmt = output_format(path)
        self.path = None if path in (None, "-") else Path(path).expanduser()
        if self.path is not None:
            if self.path.is_dir():
                raise LtxError(f"--output '{self.path}' is a folder; name a file.")
            if self.path.exists() and not overwrite:
                raise LtxError(
                    f"The output file '{self.path}' exists; pass --overwrite to replace it."
                )
            if not self.path.parent.is_dir():
                raise LtxError(f"The folder of --output '{self.path}' does not exist.")
        self._tmp: Path | None = None
        self._file: IO[str] | None = None
        self.writer: ResultWriter | None = None

    def __enter__(self) -> ResultWriter:
        if self.path is None:
            self.writer = ResultWriter("jsonl", sys.stdout, None)
            return self.writer
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.part")
        if self.fmt != "parquet":
            self._file = self._tmp.open("w", encoding="utf-8", newline="")
        self.writer = ResultWriter(self.fmt, self._file, self._tmp)
        return self.writer

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None and self.writer is not None:
                self.writer.close()
        finally:
            if self._file is not None:
                self._file.close()
        if self._tmp is None:
            return
        if exc_type is None:
            os.replace(self._tmp, self.path)  # type: ignore[arg-type]
        else:
            self._tmp.unlink(missing_ok=True)
