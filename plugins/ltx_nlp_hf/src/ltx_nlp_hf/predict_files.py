"""Rows of a file to predict on, streamed: the formats and parsing rules of training data
(:mod:`ltx_nlp_hf.data.readers`), read a row at a time where the format allows.

CSV and TSV (GLUE's unquoted TSV too), JSON lines and Parquet stream; plain text streams a
line at a time; a JSON document (one list of records) and CoNLL text are read whole, as
their format requires. ``-`` reads JSON lines from standard input (objects, or bare
strings taken as the text column).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ltx_core.errors import LtxError
from ltx_core.readers import expand_paths, iter_jsonl, iter_parquet, stdin_lines
from ltx_nlp_hf.data.readers import DataFile, detect_format, read_records

__all__ = ["iter_file_records"]


def _delimited(path: Path, delimiter: str) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        # The training reader's rules: TSV files put bare quotes inside fields.
        reader = csv.reader(
            f,
            delimiter=delimiter,
            quoting=csv.QUOTE_MINIMAL if delimiter == "," else csv.QUOTE_NONE,
        )
        header: list[str] | None = None
        try:
            for n, row in enumerate(reader, start=1):
                if not row or not any(cell.strip() for cell in row):
                    continue
                if header is None:
                    header = [h.strip() for h in row]
                    continue
                if len(row) != len(header):
                    raise LtxError(
                        f"Row {n} of '{path}' has {len(row)} fields but the header has "
                        f"{len(header)}."
                    )
                yield {k: v.rstrip("\r") for k, v in zip(header, row, strict=True)}
        except csv.Error as exc:
            raise LtxError(f"'{path}' is not valid CSV: {exc}.") from None
        except UnicodeDecodeError:
            raise LtxError(f"'{path}' is not UTF-8 text; re-save it as UTF-8.") from None


def _objects(values: Iterable[Any], text_column: str, where: str) -> Iterator[dict[str, Any]]:
    for n, value in enumerate(values, start=1):
        if isinstance(value, dict):
            yield value
        elif isinstance(value, str):
            yield {text_column: value}
        else:
            raise LtxError(f"Line {n} of {where} is neither a JSON object nor a string.")


def _lines(path: Path, text_column: str) -> Iterator[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8-sig") as f:
            for line in f:
                line = line.rstrip("\r\n")
                if line.strip():
                    yield {text_column: line}
    except UnicodeDecodeError:
        raise LtxError(f"'{path}' is not UTF-8 text; re-save it as UTF-8.") from None


def iter_file_records(
    source: str,
    *,
    file_format: str = "auto",
    json_field: str | None = None,
    text_column: str = "text",
    tokens_column: str = "tokens",
    tags_column: str = "ner_tags",
) -> Iterator[dict[str, Any]]:
    """Every record of a file, a folder of files or a glob, in order (``-``: stdin)."""
    if source == "-":
        lines = stdin_lines()
        yield from _objects(iter_jsonl(lines, "standard input"), text_column, "standard input")
        return
    for path in expand_paths(source):
        fmt = detect_format(path, file_format)
        if fmt == "csv":
            yield from _delimited(path, ",")
        elif fmt == "tsv":
            yield from _delimited(path, "\t")
        elif fmt == "jsonl":
            with path.open(encoding="utf-8-sig") as f:
                yield from _objects(iter_jsonl(f, f"'{path}'"), text_column, f"'{path}'")
        elif fmt == "parquet":
            yield from iter_parquet(path)
        elif fmt == "text":
            yield from _lines(path, text_column)
        else:  # json (one document) and conll: read whole, with the training reader
            yield from read_records(
                DataFile.open(path, "input"),
                fmt,
                json_field=json_field,
                text_column=text_column,
                tokens_column=tokens_column,
                tags_column=tags_column,
            )
