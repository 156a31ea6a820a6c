"""Where ``ltx predict``'s results go: JSON lines (standard output or ``.jsonl``), CSV or
Parquet by the file's extension. A file is written under a temporary name and moved into
place at the end, so a failed run leaves no half file; an existing file is never replaced
without ``--overwrite``. Torch-free.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import IO, Any

from ltx_core.errors import LtxError

__all__ = ["OUTPUT_FORMATS", "ResultWriter", "open_writer", "output_format"]

OUTPUT_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv",
                  ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}  # fmt: skip


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
