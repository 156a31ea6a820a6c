"""Row readers for prediction files: what a task's ``read_predict_file`` is built from
(a plugin contract, beside ``task.py``).

One input per line of a text file, or an ``input`` column of JSON lines, CSV, TSV or
Parquet; ``-`` is JSON lines on standard input; globs and folders expand to files.
Plain Python, torch-free.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ltx_core.errors import LtxError

__all__ = ["expand_paths", "iter_jsonl", "iter_parquet", "read_plain_inputs", "stdin_lines"]


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
