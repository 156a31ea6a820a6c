"""``ltx predict`` over files, through the CLI, with a tiny text classifier trained on real
SST-2: every input format gives the same predictions in input order, CSV / Parquet
outputs, ``--keep-columns``, the accuracy of a predict output equals ``ltx test``'s, and
typed options are validated (nearest name, types, exit 2)."""

from __future__ import annotations

import os

# Before torch loads: idle OpenMP workers sleep instead of spinning (a shared CI machine).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# Every test predicts with the checkpoint the module trains first (about 30 s).
pytestmark = pytest.mark.slow

ROWS = 60  # rows of the SST-2 test split the format tests predict


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _sst2_test(shared: Path) -> list[dict[str, str]]:
    with (shared / "sst2" / "test.tsv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


@pytest.fixture
def ckpt(shared: Path, ltx_shared_run: Callable[..., Path]) -> Path:
    """A tiny BERT classifier trained for a few seconds on 4,000 real SST-2 phrases (test
    accuracy about 0.7: its predictions differ from row to row), once for the tests here."""
    sst2 = shared / "sst2"
    run = ltx_shared_run(
        "text-classification", "--dataset", "text-classification-files",
        "--backbone", "tiny-bert", "--max-epochs", "1",
        f"dataset.train_file={sst2 / 'train.tsv'}", f"dataset.validation_file={sst2 / 'dev.tsv'}",
        f"dataset.test_file={sst2 / 'test.tsv'}", "dataset.text_column=sentence",
        "dataset.label_names=[negative, positive]", "dataset.limit_train_samples=4000",
        "dataset.limit_val_samples=32", "dataset.batch_size=32", "dataset.max_length=32",
        "optimizer.lr=0.005", "task.export_hf=false", "trainer.num_sanity_val_steps=0",
    )  # fmt: skip
    return run / "checkpoints" / "last.ckpt"


Predict = Callable[..., Any]


@pytest.fixture
def predict(ltx_cli: Callable[..., Any]) -> Predict:
    """``predict(*args, input=None)``: ``ltx predict`` on the CPU without a progress bar."""

    def run(*args: str, input: str | None = None) -> Any:
        return ltx_cli("predict", "--accelerator", "cpu", "--no-progress", *args, input=input)

    return run


def _write_formats(rows: list[dict[str, str]], folder: Path) -> dict[str, Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(exist_ok=True)
    out = {}
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        path = folder / f"in.{fmt}"
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(
                f,
                fieldnames=["sentence", "label"],
                delimiter=delimiter,
                quoting=csv.QUOTE_MINIMAL if fmt == "csv" else csv.QUOTE_NONE,
                escapechar=None if fmt == "csv" else "\\",
            )
            w.writeheader()
            w.writerows(rows)
        out[fmt] = path
    out["jsonl"] = folder / "in.jsonl"
    out["jsonl"].write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out["json"] = folder / "in.json"
    out["json"].write_text(json.dumps(rows), encoding="utf-8")
    out["parquet"] = folder / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), out["parquet"])
    return out


def test_every_input_format_predicts_the_same_rows_in_input_order(
    ckpt: Path, shared: Path, tmp_path: Path, predict: Predict
) -> None:
    rows = _sst2_test(shared)[:ROWS]
    files = _write_formats(rows, tmp_path / "inputs")
    outputs: dict[str, list[dict[str, Any]]] = {}
    for fmt, path in files.items():
        # A batch of 4 in windows of 256 rows: batches are formed out of input order.
        result = predict("--ckpt", str(ckpt), "--input", str(path), "--batch-size", "4",
                         "--output", str(tmp_path / f"out-{fmt}.jsonl"))  # fmt: skip
        assert result.exit_code == 0, result.output
        outputs[fmt] = _rows(tmp_path / f"out-{fmt}.jsonl")
    # JSON lines on standard input, to standard output.
    stdin = "".join(json.dumps(r) + "\n" for r in rows)
    result = predict("--ckpt", str(ckpt), "--input", "-", "--batch-size", "7", input=stdin)
    assert result.exit_code == 0, result.output
    outputs["stdin"] = [json.loads(line) for line in result.stdout.splitlines() if line]

    sentences = [r["sentence"] for r in rows]
    first = outputs["csv"]
    assert [r["input"] for r in first] == sentences
    assert {r["label"] for r in first} <= {"negative", "positive"}
    for fmt, out in outputs.items():
        assert [r["input"] for r in out] == sentences, fmt
        assert [r["label"] for r in out] == [r["label"] for r in first], fmt
        assert [r["score"] for r in out] == pytest.approx([r["score"] for r in first], abs=2e-4)


def test_outputs_csv_and_parquet_with_kept_columns(
    ckpt: Path, shared: Path, tmp_path: Path, predict: Predict
) -> None:
    import pyarrow.parquet as pq

    rows = [{"id": f"r{i}", **r} for i, r in enumerate(_sst2_test(shared)[:50])]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for name in ("out.csv", "out.parquet", "out.jsonl"):
        result = predict("--ckpt", str(ckpt), "--input", str(src), "--keep-columns", "id,label",
                         "--output", str(tmp_path / name), "--batch-size", "8")  # fmt: skip
        assert result.exit_code == 0, result.output
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as f:
        as_csv = list(csv.DictReader(f))
    as_parquet = pq.read_table(tmp_path / "out.parquet").to_pylist()
    as_jsonl = _rows(tmp_path / "out.jsonl")
    for out in (as_csv, as_parquet, as_jsonl):
        assert list(out[0])[:2] == ["id", "label"]
        assert [r["id"] for r in out] == [r["id"] for r in rows]
        assert [r["input"] for r in out] == [r["sentence"] for r in rows]
    # The kept 'label' (the gold one) gives way to the prediction's own 'label' field.
    assert [r["label"] for r in as_csv] == [r["label"] for r in as_jsonl]
    assert [float(r["score"]) for r in as_csv] == [r["score"] for r in as_parquet]

    missing = predict("--ckpt", str(ckpt), "--input", str(src), "--keep-columns", "idd")
    assert (
        missing.exit_code == 2 and "'idd'" in missing.stderr and "Traceback" not in missing.output
    )


def test_accuracy_of_a_predict_output_equals_ltx_test(
    ckpt: Path, shared: Path, tmp_path: Path, predict: Predict, ltx_cli: Callable[..., Any]
) -> None:
    tested = ltx_cli("test", "--ckpt", str(ckpt), "--json", "--accelerator", "cpu")
    assert tested.exit_code == 0, tested.output
    test_acc = json.loads(tested.stdout[tested.stdout.index("{") :])["test_acc"]

    out = tmp_path / "pred.csv"
    result = predict("--ckpt", str(ckpt), "--input", str(shared / "sst2" / "test.tsv"),
                     "--keep-columns", "label", "--output", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    gold = [int(r["label"]) for r in _sst2_test(shared)]
    with out.open(encoding="utf-8", newline="") as f:
        predicted = [r["label"] for r in csv.DictReader(f)]
    assert len(predicted) == len(gold) == 872
    # The model is trained enough to tell some phrases apart: the check means something.
    assert len(set(predicted)) == 2
    names = ["negative", "positive"]
    acc = sum(names[g] == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    assert acc == pytest.approx(test_acc, abs=1e-6)


def test_options_are_typed_and_validated(ckpt: Path, tmp_path: Path, predict: Predict) -> None:
    ok = predict("--ckpt", str(ckpt), "a gripping film", "--set", "return_all_scores=true")
    assert ok.exit_code == 0, ok.output
    (row,) = [json.loads(line) for line in ok.stdout.splitlines() if line.startswith("{")]
    assert set(row["scores"]) == {"negative", "positive"}
    assert sum(row["scores"].values()) == pytest.approx(1.0, abs=1e-3)

    cases = [
        (["--set", "return_all_score=true"], "Did you mean 'return_all_scores'?"),
        (["--set", "threshold=high"], "threshold='high' must be a number"),
        (["--set", "return_all_scores=maybe"], "must be true or false"),
        (["--set", "threshold=2"], "out of range"),
        (["--set", "nothing"], "--set takes key=value"),
    ]
    for args, message in cases:
        bad = predict("--ckpt", str(ckpt), "a film", *args)
        assert bad.exit_code == 2, (args, bad.output)
        assert message in bad.stderr, (args, bad.stderr)
        assert "Traceback" not in bad.output


def test_an_existing_output_is_never_overwritten_without_overwrite(
    ckpt: Path, tmp_path: Path, predict: Predict
) -> None:
    src = tmp_path / "in.txt"
    src.write_text("a fine film\na dull film\n", encoding="utf-8")
    out = tmp_path / "mine.jsonl"
    out.write_text("precious\n", encoding="utf-8")
    refused = predict("--ckpt", str(ckpt), "--input", str(src), "--output", str(out))
    assert refused.exit_code == 2 and "--overwrite" in refused.stderr
    assert out.read_text(encoding="utf-8") == "precious\n"
    replaced = predict("--ckpt", str(ckpt), "--input", str(src), "--output", str(out),
                       "--overwrite")  # fmt: skip
    assert replaced.exit_code == 0, replaced.output
    assert [r["input"] for r in _rows(out)] == ["a fine film", "a dull film"]
    assert not list(tmp_path.glob(".mine.jsonl.*"))  # no temporary file left behind


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "nowhere.csv"], "does not exist"),
        (["--input", "in.txt", "--output", "out.xlsx"], "output format"),
        (["--input", "in.txt", "--batch-size", "0"], "--batch-size must be at least 1"),
        (["a text", "--input", "in.txt"], "not both"),
        (["a text", "--keep-columns", "id"], "--keep-columns"),
    ],
)
def test_input_mistakes_exit_2(
    ckpt: Path, tmp_path: Path, args: list[str], message: str, predict: Predict
) -> None:
    (tmp_path / "in.txt").write_text("a film\n", encoding="utf-8")
    result = predict("--ckpt", str(ckpt), *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_predictor_in_memory_matches_the_file_path(
    ckpt: Path, tmp_path: Path, predict: Predict
) -> None:
    """What the server calls: Predictor.predict gives the rows ``ltx predict`` writes."""
    from ltx_core.inference.predictor import Predictor

    texts = ["a gripping, beautifully acted film", "a dull and lifeless mess", "ok", "fine " * 30]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"sentence": t}) + "\n" for t in texts), encoding="utf-8")
    result = predict(
        "--ckpt", str(ckpt), "--input", str(src), "--output", str(tmp_path / "o.jsonl")
    )
    assert result.exit_code == 0, result.output
    predictor = Predictor.from_checkpoint(ckpt, accelerator="cpu", batch_size=2)
    rows = predictor.predict(texts, predictor.parse_options({"return_all_scores": False}))
    from_file = _rows(tmp_path / "o.jsonl")
    assert [r["label"] for r in rows] == [r["label"] for r in from_file]
    assert [r["score"] for r in rows] == pytest.approx([r["score"] for r in from_file], abs=2e-4)
    info = predictor.info()
    assert info["task"] == "text-classification" and info["labels"] == ["negative", "positive"]
    assert "return_all_scores" in info["options"]["properties"]
    with pytest.raises(Exception, match="Input 0 is not a string"):
        predictor.check_inputs([3])


def test_two_devices_predict_every_row_once_in_input_order(
    ckpt: Path,
    shared: Path,
    tmp_path: Path,
    predict: Predict,
    run_ltx: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--devices 2``: Lightning starts a second ``ltx predict`` process (DDP over gloo on
    the CPU), each predicts every other row, the first merges both in input order."""
    rows = _sst2_test(shared)[:40]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    args = ["--ckpt", str(ckpt), "--input", str(src), "--no-progress",
            "--accelerator", "cpu", "--batch-size", "4"]  # fmt: skip
    # The launched process must start as a fresh run, not as a member of this one.
    for var in ("RANK", "WORLD_SIZE", "LTX_PREDICT_PARTS"):
        monkeypatch.delenv(var, raising=False)
    two = run_ltx("predict", *args, "--devices", "2", "--output", str(tmp_path / "two.jsonl"),
                  env={"OMP_WAIT_POLICY": "PASSIVE"})  # fmt: skip
    assert two.returncode == 0, two.stderr[-3000:]
    assert "MEMBER: 2/2" in two.stderr  # two processes took part
    one = predict(*args, "--output", str(tmp_path / "one.jsonl"))
    assert one.exit_code == 0, one.output
    got, want = _rows(tmp_path / "two.jsonl"), _rows(tmp_path / "one.jsonl")
    assert [r["input"] for r in got] == [r["sentence"] for r in rows]
    assert [r["label"] for r in got] == [r["label"] for r in want]
    assert not list(tmp_path.glob(".two.jsonl.*"))


def test_a_text_pair_model_reads_both_columns_and_every_pair_form(
    tmp_path: Path, predict: Predict, ltx_train: Callable[..., Any]
) -> None:
    """A pair classifier (the packaged MRPC sample): the pair columns of a file, and the
    pair as an object, a list or one 'first ||| second' string all predict alike."""
    ckpt = ltx_train(
        "text-classification", "--dataset", "mrpc-sample", "--backbone", "tiny-bert",
        "--max-steps", "1", "task.export_hf=false", "trainer.num_sanity_val_steps=0",
        output_dir=tmp_path / "pairs",
    ).checkpoint  # fmt: skip
    pairs = [("The cat sat.", "A cat was sitting."), ("It rained all day.", "Stocks rose.")]
    src = tmp_path / "pairs.jsonl"
    src.write_text(
        "".join(json.dumps({"#1 String": a, "#2 String": b}) + "\n" for a, b in pairs),
        encoding="utf-8",
    )
    from_file = predict("--ckpt", str(ckpt), "--input", str(src))
    assert from_file.exit_code == 0, from_file.output
    rows = [json.loads(line) for line in from_file.stdout.splitlines() if line]
    assert [r["input"] for r in rows] == [{"text": a, "text_pair": b} for a, b in pairs]

    from ltx_core.inference.predictor import Predictor

    predictor = Predictor.from_checkpoint(ckpt, accelerator="cpu")
    opts = predictor.parse_options({})
    forms = [
        [{"#1 String": a, "#2 String": b} for a, b in pairs],
        [{"text": a, "text_pair": b} for a, b in pairs],
        [[a, b] for a, b in pairs],
        [f"{a} ||| {b}" for a, b in pairs],
    ]
    for inputs in forms:
        got = predictor.predict(inputs, opts)
        assert [g["label"] for g in got] == [r["label"] for r in rows]
        assert [g["score"] for g in got] == pytest.approx([r["score"] for r in rows], abs=2e-4)
    with pytest.raises(Exception, match="is not a text pair"):
        predictor.check_inputs([{"#1 String": "only one"}])
