"""``ltx predict`` over files in the core: streaming, length-sorted batches put back in
input order, the output writers, typed options, ``ltx info`` listing them without torch,
and a third-party task (the starter plugin) predicting a file through the CLI."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from ltx_core.cli.testing import probe_python
from ltx_core.errors import LtxError
from ltx_core.inference.batching import ReorderBuffer, windowed_batches
from ltx_core.inference.options import NoPredictOptions, parse_predict_options
from ltx_core.inference.writers import open_writer
from ltx_core.readers import read_plain_inputs


def _sorted_round_trip(n: int, batch: int, window: int, shard: tuple[int, int] = (0, 1)):
    rng = random.Random(n)
    texts = ["x" * rng.randint(1, 60) + f"#{i}" for i in range(n)]
    out: list[tuple[int, str]] = []
    buffer = ReorderBuffer(lambda i, r: out.append((i, r)), start=shard[0], stride=shard[1])
    peak = 0
    batches = windowed_batches(
        ((t, {"input": t}) for t in texts), batch, length=len, window=window, shard=shard
    )
    for indices, inputs, _ in batches:
        assert len(inputs) <= batch
        buffer.add(indices, [t.upper() for t in inputs])
        peak = max(peak, len(buffer._waiting))
    buffer.close()
    return texts, out, peak


def test_length_sorted_batches_come_back_in_input_order() -> None:
    texts, out, peak = _sorted_round_trip(1000, batch=8, window=64)
    assert [i for i, _ in out] == list(range(1000))
    assert [r for _, r in out] == [t.upper() for t in texts]
    assert peak < 64  # memory: at most one window waits, however long the input


def test_batches_inside_a_window_are_sorted_by_length() -> None:
    rows = [(t, {}) for t in ["aaaa", "a", "aaa", "aa", "aaaaa", "b"]]
    batches = list(windowed_batches(rows, 2, length=len, window=6))
    assert [b[1] for b in batches] == [["aaaaa", "aaaa"], ["aaa", "aa"], ["a", "b"]]


def test_each_shard_gets_its_rows_and_orders_them() -> None:
    for rank in range(3):
        _, out, _ = _sorted_round_trip(100, batch=4, window=16, shard=(rank, 3))
        assert [i for i, _ in out] == list(range(rank, 100, 3))


def test_writers_jsonl_csv_parquet(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    rows = [{"input": f"t{i}", "label": "a", "scores": {"a": 0.5}} for i in range(5000)]
    for name in ("o.jsonl", "o.csv", "o.parquet"):
        with open_writer(str(tmp_path / name)) as w:
            for r in rows:
                w.write(r)
    assert json.loads((tmp_path / "o.jsonl").read_text().splitlines()[4999]) == rows[4999]
    lines = (tmp_path / "o.csv").read_text().splitlines()
    assert lines[0] == "input,label,scores" and lines[1] == 't0,a,"{""a"": 0.5}"'
    table = pq.read_table(tmp_path / "o.parquet").to_pylist()
    assert len(table) == 5000 and table[-1] == rows[-1]
    assert not list(tmp_path.glob(".*part"))


def test_writer_refuses_an_existing_file_and_leaves_nothing_on_failure(tmp_path: Path) -> None:
    mine = tmp_path / "mine.csv"
    mine.write_text("keep me\n")
    with pytest.raises(LtxError, match="exists; pass --overwrite"):
        open_writer(str(mine))
    with pytest.raises(LtxError, match="output format"):
        open_writer(str(tmp_path / "o.xlsx"))
    with pytest.raises(LtxError, match="same columns"), open_writer(str(tmp_path / "o.csv")) as w:
        w.write({"a": 1})
        w.write({"a": 1, "b": 2})
    assert not (tmp_path / "o.csv").exists() and not list(tmp_path.glob(".*part"))
    assert mine.read_text() == "keep me\n"


def test_plain_reader_formats(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\n\ntwo\r\n")
    (tmp_path / "b.jsonl").write_text('{"input": "three", "id": 3}\n"four"\n')
    (tmp_path / "c.csv").write_text("id,input\n5,five\n")
    got = [
        x for f in ("a.txt", "b.jsonl", "c.csv") for x, _ in read_plain_inputs(str(tmp_path / f))
    ]
    assert got == ["one", "two", "three", "four", "five"]
    (tmp_path / "d.csv").write_text("id,text\n1,x\n")
    with pytest.raises(LtxError, match="no 'input' column"):
        list(read_plain_inputs(str(tmp_path / "d.csv")))
    with pytest.raises(LtxError, match="does not exist"):
        list(read_plain_inputs(str(tmp_path / "nope.txt")))


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    temperature: float = Field(1.0, gt=0)
    top_k: int | None = None
    greedy: bool = False


def test_options_are_validated_with_one_sentence() -> None:
    opts = parse_predict_options(_Options, {"temperature": "0.5", "top_k": "3", "greedy": "true"})
    assert (opts.temperature, opts.top_k, opts.greedy) == (0.5, 3, True)
    assert parse_predict_options(_Options, {"top_k": ""}).top_k is None  # empty: the default
    cases = [
        ({"temprature": "1"}, r"Unknown predict option 'temprature' .*Did you mean 'temperature'"),
        ({"temperature": "hot"}, r"temperature='hot' must be a number"),
        ({"top_k": "1.5"}, r"top_k='1.5' must be a whole number"),
        ({"greedy": "perhaps"}, r"must be true or false"),
        ({"temperature": "0"}, r"out of range"),
    ]
    for raw, message in cases:
        with pytest.raises(LtxError, match=message):
            parse_predict_options(_Options, raw, "demo")
    with pytest.raises(LtxError, match="takes no predict options"):
        parse_predict_options(NoPredictOptions, {"x": "1"}, "demo")
    # A task of the 0.1 API (predict_inputs) gets its --set values as strings (ltx_core.compat).
    from ltx_core.compat import _legacy_predict_options

    legacy = parse_predict_options(_legacy_predict_options(), {"anything": "goes"})
    assert legacy.model_dump() == {"anything": "goes"}


@pytest.mark.slow
def test_every_registered_task_declares_its_options_in_spec_and_class() -> None:
    from ltx_core.inference.predictor import options_model_of
    from ltx_core.registry import get_registry
    from ltx_core.task import LtxTask

    for spec in get_registry().components("task"):
        if spec.plugin not in ("nlp-hf", "vision-igpt", "igpt"):
            continue
        cls = spec.load_target()
        assert cls.predict_batch is not LtxTask.predict_batch, spec.name
        assert "predict_inputs" not in {n for k in cls.__mro__ for n in vars(k)}, spec.name
        assert spec.load_predict_options() is cls.predict_options, spec.name
        assert options_model_of(cls).model_config.get("extra") == "forbid", spec.name


def test_info_lists_the_options_without_importing_torch() -> None:
    code = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from ltx_core.cli.app import app\n"
        "r = CliRunner().invoke(app, ['info', 'summarization', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "names = [o['name'] for o in json.loads(r.stdout)['predict_options']]\n"
        "text = CliRunner().invoke(app, ['info', 'igpt']).stdout\n"
        "print(json.dumps([names, 'temperature' in text and 'predict options' in text]))\n"
    )
    probe = probe_python(code, timeout=120)
    assert probe.returncode == 0, probe.stderr
    names, igpt_listed = json.loads(probe.stdout.splitlines()[-1])
    assert {"max_new_tokens", "temperature", "top_k", "top_p", "num_beams", "do_sample"} <= set(
        names
    )
    assert igpt_listed and probe.imported == []


@pytest.mark.slow
def test_a_third_party_task_predicts_a_file(
    example_plugin: None, ltx_shared_run, ltx_cli, tmp_path: Path
) -> None:
    run = ltx_shared_run("toy-classify", "--max-steps", "3", "dataset.samples=96")
    ckpt = str(run / "checkpoints" / "last.ckpt")
    rng = random.Random(0)
    inputs = [" ".join(str(rng.randint(0, 9)) for _ in range(8)) for _ in range(30)]
    (tmp_path / "in.txt").write_text("\n".join(inputs) + "\n")
    (tmp_path / "in.jsonl").write_text(
        "".join(json.dumps({"id": i, "input": t}) + "\n" for i, t in enumerate(inputs))
    )
    base = ["predict", "--ckpt", ckpt, "--no-progress", "--accelerator", "cpu", "--batch-size", "4"]
    by_args = ltx_cli("predict", "--ckpt", ckpt, *inputs[:3])
    assert by_args.exit_code == 0, by_args.output
    from_txt = ltx_cli(*base, "--input", "in.txt", "--set", "scores=true")
    assert from_txt.exit_code == 0, from_txt.output
    rows = [json.loads(line) for line in from_txt.stdout.splitlines()]
    assert [r["input"] for r in rows] == inputs
    first = [json.loads(line) for line in by_args.stdout.splitlines() if line.startswith("{")]
    assert [(r["input"], r["class"]) for r in rows[:3]] == [(r["input"], r["class"]) for r in first]
    assert all(len(r["scores"]) == 2 for r in rows)
    kept = ltx_cli(*base, "--input", "in.jsonl", "--keep-columns", "id")
    assert kept.exit_code == 0, kept.output
    assert [json.loads(line)["id"] for line in kept.stdout.splitlines()] == list(range(30))
    bad = ltx_cli(*base, "--input", "in.txt", "--set", "oops")
    assert bad.exit_code == 2 and "key=value" in bad.stderr
    import torch

    if not torch.cuda.is_available():
        no_gpu = ltx_cli("predict", "--ckpt", ckpt, "--gpus", "1", inputs[0])
        assert no_gpu.exit_code == 2 and "no CUDA GPU" in no_gpu.stderr
