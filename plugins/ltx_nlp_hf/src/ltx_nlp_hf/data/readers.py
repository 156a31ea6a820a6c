"""Read local data files into records, with one-sentence errors for bad files: whole, for
training (:func:`read_records`), or streamed a row at a time where the format allows, for
prediction (:func:`iter_file_records`; :func:`iter_predict_records` with a dataset's
settings); both parse with the same row readers.

Formats: CSV, TSV, JSON (a list of records, or an object holding one), JSON lines,
Parquet, plain text (one example per non-empty line) and CoNLL column text
(``token ... TAG``, sentences separated by blank lines). Text files may have CRLF
line endings, a UTF-8 byte-order mark, or no final newline.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ltx_core.errors import LtxError
from ltx_core.readers import expand_paths, iter_parquet, stdin_lines

__all__ = [
    "FORMATS",
    "DataFile",
    "detect_format",
    "iter_file_records",
    "iter_predict_records",
    "looks_like_conll",
    "read_records",
]

FORMATS = ("csv", "tsv", "json", "jsonl", "parquet", "text", "conll")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".txt": "text",
    ".text": "text",
    ".raw": "text",
    ".conll": "conll",
    ".conllu": "conll",
    ".iob": "conll",
    ".bio": "conll",
}


@dataclass(frozen=True)
class DataFile:
    """One data file, read once: its bytes give both its records and its cache key."""

    path: Path
    data: bytes

    @classmethod
    def open(cls, path: str | Path, what: str) -> DataFile:
        p = Path(path).expanduser()
        if not p.exists():
            raise LtxError(f"The {what} file '{p}' does not exist.")
        if not p.is_file():
            raise LtxError(f"The {what} file '{p}' is not a file.")
        return cls(p, p.read_bytes())

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def text(self) -> str:
        try:
            text = self.data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = self.data[: exc.start].count(b"\n") + 1
            raise LtxError(
                f"Data file '{self.path}' is not UTF-8 text (bad byte at line {line}); "
                f"re-save it as UTF-8."
            ) from None
        return text


def detect_format(path: Path, file_format: str = "auto") -> str:
    """The file's format: as configured, else from its extension (no extension: text)."""
    if file_format != "auto":
        return file_format
    suffix = path.suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if suffix == "":
        return "text"
    raise LtxError(
        f"Cannot tell the format of '{path}' from its extension '{suffix}'; set "
        f"dataset.file_format to one of {', '.join(FORMATS)}."
    )


def looks_like_conll(text: str) -> bool:
    """Whether text is CoNLL columns: blocks of ``token ... TAG`` lines, all as wide (2-10
    fields), separated by blank lines or ``-DOCSTART-`` lines (prose varies in width)."""
    lines = text.splitlines()
    rows = [line.split() for line in lines if line.strip() and not line.startswith("-DOCSTART-")]
    separated = any(not line.strip() or line.startswith("-DOCSTART-") for line in lines)
    widths = {len(r) for r in rows}
    return bool(rows) and separated and len(widths) == 1 and 2 <= min(widths) <= 10


def _delimited_rows(stream: Iterable[str], delimiter: str, path: Path) -> Iterator[dict[str, Any]]:
    """The records of CSV / TSV text, a row at a time; the first non-blank row is the header."""
    # TSV files (GLUE, MRPC) put bare quotes inside fields; only CSV uses quoting.
    reader = csv.reader(
        stream,
        delimiter=delimiter,
        quoting=csv.QUOTE_MINIMAL if delimiter == "," else csv.QUOTE_NONE,
    )
    header: list[str] | None = None
    n = 0
    try:
        for row in reader:
            if not row or not any(cell.strip() for cell in row):
                continue
            n += 1
            if header is None:
                header = [h.strip() for h in row]
                if len(set(header)) != len(header):
                    raise LtxError(
                        f"Data file '{path}' repeats a column name in its header: {header}."
                    )
                continue
            if len(row) != len(header):
                raise LtxError(
                    f"Row {n} of '{path}' has {len(row)} fields but the header has {len(header)}."
                )
            yield {k: v.rstrip("\r") for k, v in zip(header, row, strict=True)}
    except csv.Error as exc:
        raise LtxError(f"Data file '{path}' is not valid CSV: {exc}.") from None
    except UnicodeDecodeError:
        raise LtxError(f"Data file '{path}' is not UTF-8 text; re-save it as UTF-8.") from None


def _jsonl_rows(
    lines: Iterable[str], where: str, text_column: str | None = None
) -> Iterator[dict[str, Any]]:
    """One JSON object per non-empty line; with ``text_column``, a bare string is taken as
    that column (prediction inputs may be plain strings)."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LtxError(f"Line {n} of {where} is not a JSON object ({exc.msg}).") from None
        if isinstance(record, str) and text_column is not None:
            record = {text_column: record}
        if not isinstance(record, dict):
            raise LtxError(f"Line {n} of {where} is not a JSON object.")
        yield record


def _text_rows(lines: Iterable[str], text_column: str) -> Iterator[dict[str, Any]]:
    for line in lines:
        line = line.rstrip("\r\n")
        if line.strip():
            yield {text_column: line}


def _read_delimited(f: DataFile, delimiter: str) -> list[dict[str, Any]]:
    records = list(_delimited_rows(io.StringIO(f.text(), newline=""), delimiter, f.path))
    if not records and not f.text().strip():
        raise LtxError(f"Data file '{f.path}' is empty.")
    return records


def _read_json(f: DataFile, json_field: str | None) -> list[dict[str, Any]]:
    text = f.text()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # A .json file of one record per line is common (the HF examples write them).
        if exc.msg == "Extra data":
            return _read_jsonl(f)
        raise LtxError(
            f"Data file '{f.path}' is not valid JSON (line {exc.lineno}: {exc.msg})."
        ) from None
    if json_field is not None:
        if not isinstance(data, dict) or json_field not in data:
            keys = ", ".join(data) if isinstance(data, dict) else "none (it is a list)"
            raise LtxError(
                f"Data file '{f.path}' has no top-level field '{json_field}'; its fields: {keys}."
            )
        data = data[json_field]
    elif isinstance(data, dict):
        lists = [k for k, v in data.items() if isinstance(v, list)]
        if "data" in lists:
            data = data["data"]
        elif len(lists) == 1:
            data = data[lists[0]]
        else:
            data = [data]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise LtxError(f"Data file '{f.path}' must hold a list of JSON objects (records).")
    return data


def _read_jsonl(f: DataFile) -> list[dict[str, Any]]:
    return list(_jsonl_rows(f.text().splitlines(), f"'{f.path}'"))


def _read_parquet(f: DataFile) -> list[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(f.data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise LtxError(f"Data file '{f.path}' is not a readable Parquet file ({exc}).") from None
    return table.to_pylist()


def _read_text(f: DataFile, text_column: str) -> list[dict[str, Any]]:
    return list(_text_rows(f.text().splitlines(), text_column))


def _read_conll(
    f: DataFile, tokens_column: str, tags_column: str, tag_index: int
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    words: list[str] = []
    tags: list[str] = []

    def flush() -> None:
        if words:
            records.append({tokens_column: list(words), tags_column: list(tags)})
            words.clear()
            tags.clear()

    for n, line in enumerate(f.text().splitlines(), start=1):
        parts = line.split()
        if not parts:
            flush()
            continue
        if parts[0] == "-DOCSTART-":
            flush()
            continue
        if len(parts) < 2:
            raise LtxError(
                f"Line {n} of CoNLL file '{f.path}' has no tag; write 'token TAG' per line."
            )
        try:
            tag = parts[tag_index]
        except IndexError:
            raise LtxError(
                f"Line {n} of CoNLL file '{f.path}' has no column {tag_index} "
                f"(dataset.conll_tag_index)."
            ) from None
        words.append(parts[0])
        tags.append(tag)
    flush()
    return records


def read_records(
    f: DataFile,
    file_format: str = "auto",
    *,
    json_field: str | None = None,
    text_column: str = "text",
    tokens_column: str = "tokens",
    tags_column: str = "ner_tags",
    conll_tag_index: int = -1,
    sniff_conll: bool = False,
) -> list[dict[str, Any]]:
    """All records of a data file; an empty file is an error.

    ``sniff_conll``: a file whose format comes out as plain text (``.txt``, no extension)
    is read as CoNLL when its content is CoNLL columns (GermEval and CoNLL-2003 ship so).
    """
    fmt = detect_format(f.path, file_format)
    if not f.data.strip():
        raise LtxError(f"Data file '{f.path}' is empty.")
    if fmt == "text" and file_format == "auto" and sniff_conll and looks_like_conll(f.text()):
        fmt = "conll"
    if fmt == "csv":
        records = _read_delimited(f, ",")
    elif fmt == "tsv":
        records = _read_delimited(f, "\t")
    elif fmt == "json":
        records = _read_json(f, json_field)
    elif fmt == "jsonl":
        records = _read_jsonl(f)
    elif fmt == "parquet":
        records = _read_parquet(f)
    elif fmt == "text":
        records = _read_text(f, text_column)
    elif fmt == "conll":
        records = _read_conll(f, tokens_column, tags_column, conll_tag_index)
    else:  # pragma: no cover - the config model restricts the formats
        raise LtxError(f"Unknown file format '{fmt}'.")
    if not records:
        raise LtxError(f"Data file '{f.path}' holds no examples.")
    return records


def iter_file_records(
    source: str,
    *,
    file_format: str = "auto",
    json_field: str | None = None,
    text_column: str = "text",
    tokens_column: str = "tokens",
    tags_column: str = "ner_tags",
) -> Iterator[dict[str, Any]]:
    """Every record of a file, a folder of files or a glob, in order (``-``: JSON lines on
    standard input), for prediction: the training formats and rules, streamed a row at a
    time where the format allows (a JSON document and CoNLL text are read whole, as their
    format requires); a JSON line may be a bare string, taken as the text column."""
    if source == "-":
        yield from _jsonl_rows(stdin_lines(), "standard input", text_column)
        return
    for path in expand_paths(source):
        fmt = detect_format(path, file_format)
        if fmt in ("csv", "tsv", "jsonl", "text"):
            try:
                with path.open(encoding="utf-8-sig", newline="") as f:
                    if fmt in ("csv", "tsv"):
                        yield from _delimited_rows(f, "," if fmt == "csv" else "\t", path)
                    elif fmt == "jsonl":
                        yield from _jsonl_rows(f, f"'{path}'", text_column)
                    else:
                        yield from _text_rows(f, text_column)
            except UnicodeDecodeError:
                raise LtxError(
                    f"Data file '{path}' is not UTF-8 text; re-save it as UTF-8."
                ) from None
        elif fmt == "parquet":
            yield from iter_parquet(path)
        else:
            yield from read_records(
                DataFile.open(path, "input"),
                fmt,
                json_field=json_field,
                text_column=text_column,
                tokens_column=tokens_column,
                tags_column=tags_column,
            )


def iter_predict_records(source: str, settings: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The records of a prediction input read with a dataset's settings (its section of
    the run config: ``file_format``, ``json_field`` and the column options; unset or
    absent ones take their defaults), as :func:`iter_file_records` streams them."""

    def setting(key: str, default: Any) -> Any:
        value = settings.get(key)
        return default if value is None else value

    fmt = setting("file_format", "auto")
    return iter_file_records(
        source,
        # The training files' format applies when the input file looks the same; a
        # file with its own extension is read as that.
        file_format="auto" if fmt in ("auto", "text") else fmt,
        json_field=settings.get("json_field"),
        text_column=setting("text_column", "text"),
        tokens_column=setting("tokens_column", "tokens"),
        tags_column=setting("tags_column", "ner_tags"),
    )
