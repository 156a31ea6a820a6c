"""File readers: every format, CRLF endings, quotes in TSV, files without a final newline,
and one-sentence errors for files that cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ltx_nlp_hf.data.readers import DataFile, detect_format, read_records

from ltx_core.errors import LtxError


def records(path: Path, fmt: str = "auto", **kw: object) -> list[dict]:
    return read_records(DataFile.open(path, "training"), fmt, **kw)  # type: ignore[arg-type]


def test_tsv_with_crlf_and_bare_quotes_reads_every_row(hf: Path) -> None:
    rows = records(hf / "MRPC" / "train.tsv")
    assert len(rows) == 6
    assert list(rows[0]) == ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"]
    # The second sentence starts with a bare quote; TSV must not treat it as quoting.
    assert rows[0]["#2 String"].startswith('" The foodservice pie business')
    assert not any(v.endswith("\r") for row in rows for v in row.values())


def test_csv_with_quoted_fields(hf: Path) -> None:
    rows = records(hf / "MRPC" / "dev.csv")
    assert rows[0]["label"] == "equivalent"
    assert rows[1]["sentence2"].startswith('His wife said he was " 100 percent')


def test_sst2_tsv_header_and_size(shared: Path) -> None:
    rows = records(shared / "sst2" / "test.tsv")
    assert len(rows) == 872
    assert set(rows[0]) == {"sentence", "label"}


def test_json_with_data_field_and_json_lines_in_a_json_file(hf: Path) -> None:
    squad = records(hf / "SQUAD" / "sample.json")
    assert len(squad) == 14 and "answers" in squad[0]
    conll = records(hf / "conll" / "sample.json")  # one object per line, .json extension
    assert len(conll) == 10 and len(conll[0]["words"]) == len(conll[0]["ner"])


def test_text_file_without_final_newline_keeps_its_last_line(hf: Path) -> None:
    path = hf / "wiki_text" / "wiki_00"
    assert not path.read_bytes().endswith(b"\n")
    rows = records(path, text_column="text")
    assert rows[-1]["text"] == path.read_text(encoding="utf-8").splitlines()[-1]
    assert all(r["text"].strip() for r in rows)  # blank lines are dropped


def test_parquet_round_trip(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": ["a", "b"], "label": [0, 1]}), tmp_path / "d.parquet")
    assert records(tmp_path / "d.parquet") == [{"text": "a", "label": 0}, {"text": "b", "label": 1}]


def test_conll_column_text(tmp_path: Path) -> None:
    path = tmp_path / "train.conll"
    path.write_bytes(
        b"-DOCSTART- -X- O O\r\n\r\nEU NNP B-NP B-ORG\r\nrejects VBZ B-VP O\r\n\r\n"
        b"Peter NNP B-NP B-PER\r\nBlackburn NNP I-NP I-PER"
    )
    rows = records(path, tokens_column="tokens", tags_column="tags")
    assert rows == [
        {"tokens": ["EU", "rejects"], "tags": ["B-ORG", "O"]},
        {"tokens": ["Peter", "Blackburn"], "tags": ["B-PER", "I-PER"]},
    ]


def test_format_detection() -> None:
    assert detect_format(Path("x.jsonl")) == "jsonl"
    assert detect_format(Path("wiki_00")) == "text"
    assert detect_format(Path("x.csv"), "tsv") == "tsv"
    with pytest.raises(LtxError, match="file_format"):
        detect_format(Path("x.xlsx"))


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "is empty"),
        (b"text,label\n", "header.csv", "holds no examples"),
        (b"text,label\n\xff\xfe bad,1\n", "latin.csv", "not UTF-8"),
        (b'{"text": "a",', "bad.json", "not valid JSON"),
        (b'{"text": "a"}\nnot json\n', "bad.jsonl", "Line 2"),
        (b"text,label\na,1,extra\n", "ragged.csv", "Row 2"),
        (b"[1, 2]", "list.json", "list of JSON objects"),
    ],
)
def test_unreadable_files_raise_one_sentence(
    tmp_path: Path, content: bytes, name: str, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LtxError, match=message) as info:
        records(path)
    assert "\n" not in str(info.value)


def test_missing_file() -> None:
    with pytest.raises(LtxError, match=r"training file '.*nope.csv' does not exist"):
        DataFile.open("nope.csv", "training")


def test_json_field_that_is_not_there(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"rows": [{"a": 1}]}))
    with pytest.raises(LtxError, match="no top-level field 'data'; its fields: rows"):
        records(path, json_field="data")
