"""``dataset.streaming: true`` for language modelling: a streamed epoch sees every example
exactly once across 2 ranks x 2 loader workers, the held-out validation rows never train,
the position survives a checkpoint (resumed mid-epoch: nothing twice, nothing lost), a run
without ``--max-steps`` is one sentence, and ``ltx train`` trains from a streamed text file,
resumes and tests."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from ltx_nlp_hf.data.language_modeling import LanguageModelingDataModule
from ltx_nlp_hf.data.streaming import StreamLoader, held_out, stream_loader

from ltx_core.cli.testing import QUIET

Cli = Callable[..., Any]

LINES = [f"line {i} of the stream" for i in range(1, 402)]  # 401: not a multiple of 4


def _text_file(path: Path, lines: list[str] = LINES) -> Path:
    # Blank lines between rows, as text files have: they are no examples.
    path.write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    return path


def _decode(tokenizer: Any, batch: dict[str, torch.Tensor]) -> list[str]:
    return [
        tokenizer.decode(ids[mask.bool()], skip_special_tokens=True)
        for ids, mask in zip(batch["input_ids"], batch["attention_mask"], strict=True)
    ]


def _streamed(make_dm: Any, tmp_path: Path, **extra: Any) -> LanguageModelingDataModule:
    config = {
        "train_file": str(_text_file(tmp_path / "stream.txt")),
        "streaming": True, "group_texts": False, "max_length": 32, "batch_size": 8,
        "shuffle_buffer": 64, "num_workers": 2, **extra,
    }  # fmt: skip
    dm: LanguageModelingDataModule = make_dm(LanguageModelingDataModule, **config)
    return dm


def _epoch(dm: Any, tokenizer: Any, rank: int, world: int, epoch: int = 0) -> list[str]:
    loader = stream_loader(dm, "train")
    assert isinstance(loader, StreamLoader)
    dm.splits["train"].rank, dm.splits["train"].world_size = rank, world
    loader._own_epochs = epoch  # outside a trainer the loader counts its epochs itself
    return [text for batch in loader for text in _decode(tokenizer, batch)]


def test_an_epoch_sees_every_example_once_across_2_ranks_x_2_workers(
    make_dm: Any, tokenizer: Any, tmp_path: Path
) -> None:
    dm = _streamed(make_dm, tmp_path, validation_file=str(_text_file(tmp_path / "val.txt")))
    ranks = [_epoch(dm, tokenizer, rank, 2) for rank in (0, 1)]
    seen = Counter(ranks[0] + ranks[1])
    assert seen == Counter(LINES)  # every example, each exactly once
    assert abs(len(ranks[0]) - len(ranks[1])) <= 2  # an even share for each rank
    assert ranks[0] + ranks[1] != LINES  # shuffled, not in file order
    # Another epoch: the same examples in another order.
    again = _epoch(dm, tokenizer, 0, 2, epoch=1) + _epoch(dm, tokenizer, 1, 2, epoch=1)
    assert Counter(again) == Counter(LINES) and again != ranks[0] + ranks[1]


def test_held_out_rows_never_train(make_dm: Any, tokenizer: Any, tmp_path: Path) -> None:
    dm = _streamed(make_dm, tmp_path, num_workers=0, validation_split=0.2)
    train = _epoch(dm, tokenizer, 0, 1)
    val = [t for batch in stream_loader(dm, "validation") for t in _decode(tokenizer, batch)]
    assert sorted(train + val) == sorted(LINES) and not set(train) & set(val)
    assert val == [line for line in LINES if held_out(line, 0.2)]  # content decides, in order
    assert 0.1 < len(val) / len(LINES) < 0.3


def test_resumed_mid_epoch_nothing_twice_nothing_lost(
    make_dm: Any, tokenizer: Any, tmp_path: Path
) -> None:
    dm = _streamed(make_dm, tmp_path, validation_file=str(_text_file(tmp_path / "val.txt")))
    loader = stream_loader(dm, "train")
    trained: list[str] = []
    # As under Lightning, which fetches a batch ahead: 7 batches handed out, 6 trained.
    progress = {"trained": 0}
    loader.progress = lambda: (0, progress["trained"])
    it = iter(loader)
    batches = [next(it) for _ in range(7)]
    for batch in batches[:6]:
        trained += _decode(tokenizer, batch)
    progress["trained"] = 6
    state = loader.state_dict()
    del it
    # The state rides in the checkpoint, which loads with weights_only=True.
    torch.save(state, tmp_path / "state.pt")
    state = torch.load(tmp_path / "state.pt", weights_only=True)
    assert state["epoch"] == 0 and sum(state["examples"].values()) == 48

    fresh = _streamed(make_dm, tmp_path, validation_file=str(tmp_path / "val.txt"))
    resumed = stream_loader(fresh, "train")
    resumed.progress = lambda: (0, 6)  # Lightning's restored count of the epoch's batches
    resumed.load_state_dict(state)
    rest = [t for batch in resumed for t in _decode(tokenizer, batch)]
    assert Counter(trained + rest) == Counter(LINES)  # the 7th batch was not lost


def test_streaming_needs_max_steps(tmp_path: Path, ltx_cli: Cli) -> None:
    _text_file(tmp_path / "stream.txt")
    result = ltx_cli(
        "train", "language-modeling", "--dataset", "language-modeling-files",
        "--backbone", "tiny-gpt2", "--accelerator", "cpu", "-o", "run",
        f"dataset.train_file={tmp_path / 'stream.txt'}", "dataset.streaming=true",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "dataset.streaming reads data of unknown length" in result.output
    assert "--max-steps" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run" / "config.yaml").exists()


def test_streaming_refuses_formats_it_cannot_stream(tmp_path: Path, ltx_cli: Cli) -> None:
    (tmp_path / "x.conll").write_text("a O\n\nb O\n")
    result = ltx_cli(
        "train", "language-modeling", "--dataset", "language-modeling-files",
        "--backbone", "tiny-gpt2", "--accelerator", "cpu", "-o", "run", "--max-steps", "2",
        f"dataset.train_file={tmp_path / 'x.conll'}", "dataset.streaming=true",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "dataset.streaming reads text, csv, tsv, json, jsonl, parquet files, not conll" in (
        result.output
    )


@pytest.mark.slow
def test_language_modelling_trains_streaming_resumes_and_tests(
    hf: Path, tmp_path: Path, run_ltx: Cli
) -> None:
    text = hf / "wiki_text" / "wiki_00"

    def ltx(*args: str) -> Any:
        return run_ltx(*args, cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})

    args = [
        "train", "language-modeling", "--dataset", "language-modeling-files",
        "--backbone", "tiny-gpt2", "--accelerator", "cpu", "-o", "run",
        f"dataset.train_file={text}", f"dataset.test_file={text}", "dataset.streaming=true",
        "dataset.max_length=32", "dataset.batch_size=4", "dataset.num_workers=2",
        "dataset.shuffle_buffer=100", "trainer.val_check_interval=4",
        "trainer.check_val_every_n_epoch=null", "trainer.limit_val_batches=2",
        "trainer.limit_test_batches=2", "trainer.checkpoint_every_n_steps=3",
        *QUIET,
    ]  # fmt: skip
    first = ltx(*args, "--max-steps", "6")
    assert first.returncode == 0, first.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["global_step"] == 6 and summary["stopped_by"] == "max_steps"
    assert {"val_loss", "test_loss", "test_perplexity"} <= set(summary["metrics"])
    assert summary["throughput"]["tokens_per_s"] > 0
    # The stream's position is in the checkpoint (Lightning's state of a stateful loader).
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    [position] = ckpt["loops"]["fit_loop"]["state_dict"]["combined_loader"]
    assert position["epoch"] == 0 and sum(position["examples"].values()) == 6 * 4

    resumed = ltx(*args, "--max-steps", "9", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["resumed_from_step"] == 6 and summary["global_step"] == 9
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    [position] = ckpt["loops"]["fit_loop"]["state_dict"]["combined_loader"]
    assert sum(position["examples"].values()) == 9 * 4  # went on from where it stopped

    tested = ltx("test", "--ckpt", str(tmp_path / "run" / "checkpoints" / "last.ckpt"), "--json")
    assert tested.returncode == 0, tested.stderr[-3000:]
    assert "test_loss" in json.loads(tested.stdout)


def test_a_hub_layout_folder_streams_by_its_splits(
    make_dm: Any, tokenizer: Any, tmp_path: Path
) -> None:
    # dataset.hub_path takes what datasets.load_dataset takes; a folder of split files is
    # read offline through the same streaming path as a hub dataset.
    folder = tmp_path / "corpus"
    folder.mkdir()
    _text_file(folder / "train.txt", LINES[:300])
    _text_file(folder / "validation.txt", LINES[300:])
    dm = make_dm(LanguageModelingDataModule, hub_path=str(folder), streaming=True,
                 group_texts=False, max_length=32, batch_size=8)  # fmt: skip
    assert "streamed" in dm.describe("train") and "split 'validation'" in dm.describe("validation")
    train = _epoch(dm, tokenizer, 0, 1)
    val = [t for batch in stream_loader(dm, "validation") for t in _decode(tokenizer, batch)]
    assert Counter(train) == Counter(LINES[:300]) and val == LINES[300:]
