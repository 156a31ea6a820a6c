"""Model FLOPs utilisation in every summary: FLOPs counted on the first batch, the
device peak (the cached CPU roofline here), and 0 < MFU <= 1 on a real tiny run (which
also trains with ``--precision auto``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from torch import nn

from ltx_core.cli.testing import QUIET
from ltx_core.engine import flops
from ltx_core.engine.flops import compute_dtype
from ltx_core.engine.precision import resolve_precision


@pytest.mark.slow
def test_a_tiny_run_reports_flops_and_mfu(tmp_path: Path, run_ltx) -> None:
    cache = tmp_path / "cache"
    out = tmp_path / "run"
    proc = run_ltx(
        "train", "igpt", "--precision", "auto", "--max-steps", "6", "--output-dir", str(out),
        "backbone.n_embd=32", "backbone.n_head=2", "backbone.n_layer=1",
        "trainer.limit_val_batches=1", "trainer.limit_test_batches=1",
        "trainer.num_sanity_val_steps=0", *QUIET,
        "task.sample_count=0",
        env={"LTX_CACHE_DIR": str(cache)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    tp = summary["throughput"]
    # --precision auto: resolved for this machine when the run starts, kept in the config.
    used = resolve_precision("auto", "cpu")
    assert summary["precision"] == used
    assert yaml.safe_load((out / "config.yaml").read_text())["trainer"]["precision"] == "auto"
    assert summary["trainable_params"] == summary["total_params"] > 0
    # A 1-layer, 32-wide GPT over 64 pixels: at least 6 x params x tokens FLOPs minus the
    # embeddings' share, far below a GFLOP.
    assert 1e5 < tp["flops_per_sample"] < 1e9, tp
    assert tp["flops_per_s"] == pytest.approx(tp["flops_per_sample"] * tp["samples_per_s"])
    assert 0 < tp["mfu"] <= 1, tp
    assert "roofline" in tp["peak_flops_source"]
    # The roofline was measured once and cached under this machine's key.
    cached = json.loads((cache / "roofline.json").read_text())
    (entry,) = cached.values()
    assert entry["fp32"] > 1e9 and entry["bf16"] > 1e9
    assert tp["peak_flops_per_s"] == pytest.approx(entry[compute_dtype(used)])
    # test (and predict) from the checkpoint resolve "auto" the same way.
    tested = run_ltx("test", "--ckpt", str(out / "checkpoints" / "last.ckpt"))
    assert tested.returncode == 0, tested.stderr[-3000:]


def test_the_counter_counts_forward_and_backward_of_the_first_batch() -> None:
    """Two linears: forward 2·B·i·o each; backward 2x for the second (input and weight
    gradients) and 1x for the first (its input needs no gradient)."""

    class Toy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 8))

        def batch_stats(self, batch: torch.Tensor) -> tuple[int, None]:
            return int(batch.shape[0]), None

    toy, batch = Toy(), torch.randn(4, 16)
    counter = flops.FlopsCounter()
    counter.on_train_batch_start(None, toy, batch, 0)  # type: ignore[arg-type]
    toy.net(batch).sum().backward()
    counter.on_train_batch_end(None, toy, None, batch, 0)  # type: ignore[arg-type]
    counter.on_train_batch_start(None, toy, batch, 1)  # type: ignore[arg-type]
    assert counter._mode is None  # counted once only
    fwd1, fwd2 = 2 * 4 * 16 * 32, 2 * 4 * 32 * 8
    assert counter.flops_per_sample == (2 * fwd1 + 3 * fwd2) / 4


def test_gpu_peaks_and_compute_dtypes() -> None:
    assert flops._gpu_peak("NVIDIA H100 PCIe", "bf16") == 756e12
    assert flops._gpu_peak("NVIDIA H100 80GB HBM3", "bf16") == 989.4e12
    assert flops._gpu_peak("NVIDIA L40S", "fp32") == 91.6e12
    assert flops._gpu_peak("NVIDIA L4", "tf32") == 60e12
    assert flops._gpu_peak("Tesla T4", "bf16") is None  # no bf16 tensor cores
    assert flops._gpu_peak("Some Future GPU", "bf16") is None
    assert flops.compute_dtype("bf16-mixed") == "bf16"
    assert flops.compute_dtype("16-mixed") == "fp16"
    assert flops.compute_dtype("32-true") == "fp32"


def test_roofline_is_cached_per_machine_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LTX_CACHE_DIR", str(tmp_path))
    first = flops.cpu_roofline(seconds=0.05)
    again = flops.cpu_roofline()
    assert not first["cached"] and again["cached"]
    assert again["fp32"] == first["fp32"]
    assert str(torch.get_num_threads()) in first["key"]
    fields = flops.mfu_fields(
        flops.FlopsCounter(), {"samples_per_s": 10.0}, torch.device("cpu"), "bf16-mixed"
    )
    # No FLOPs counted: every key is there, the ones that need a count are None.
    assert fields["flops_per_sample"] is None and fields["mfu"] is None
    assert fields["peak_flops_per_s"] == pytest.approx(first["bf16"])


def test_text_batches_of_every_length_are_credited_per_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A length-grouped loader serves its longest batch first: FLOPs per sample counted
    there, times samples/s over mostly short batches, overstated MFU (1.7 on SST-2
    phrases). Counted per token, the short batches are credited with their own work."""

    class Embed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Linear(8, 8)

        def batch_stats(self, batch: torch.Tensor) -> tuple[int, int]:
            return int(batch.shape[0]), int(batch.shape[0] * batch.shape[1])

    toy, longest = Embed(), torch.randn(4, 32, 8)
    counter = flops.FlopsCounter()
    counter.on_train_batch_start(None, toy, longest, 0)  # type: ignore[arg-type]
    toy.net(longest).sum().backward()
    counter.on_train_batch_end(None, toy, None, longest, 0)  # type: ignore[arg-type]
    per_token = 2 * 2 * 8 * 8  # forward and the weight gradient (the input needs none)
    assert counter.flops_per_token == per_token
    assert counter.flops_per_sample == per_token * 32

    monkeypatch.setenv("LTX_CACHE_DIR", str(tmp_path))
    # Later batches average 4 tokens a sample: 100 samples/s are 400 tokens/s.
    fields = flops.mfu_fields(
        counter, {"samples_per_s": 100.0, "tokens_per_s": 400.0}, torch.device("cpu"), "32-true"
    )
    assert fields["flops_per_s"] == pytest.approx(per_token * 400.0)
    assert fields["mfu"] == pytest.approx(per_token * 400.0 / fields["peak_flops_per_s"])


def test_a_roofline_measured_on_a_busy_machine_is_measured_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A cached peak below what a run achieved was measured under load: the run measures
    again and the cache keeps the higher figure (a new measurement never lowers it)."""
    monkeypatch.setenv("LTX_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(flops, "ROOFLINE_SIZES", (256,))
    measured = flops.cpu_roofline(seconds=0.05)
    cache = tmp_path / "roofline.json"
    entries = json.loads(cache.read_text())
    (key,) = entries
    entries[key]["fp32"] = 1e6  # as if measured while another job held the cores
    cache.write_text(json.dumps(entries))

    counter = flops.FlopsCounter()
    counter.flops_per_sample = 1e6
    fields = flops.mfu_fields(counter, {"samples_per_s": 10.0}, torch.device("cpu"), "32-true")
    again = json.loads(cache.read_text())[key]["fp32"]
    assert again > 1e7 and fields["peak_flops_per_s"] == pytest.approx(again)
    assert 0 < fields["mfu"] <= 1

    entries = json.loads(cache.read_text())
    entries[key]["bf16"] = measured["bf16"] * 1000  # a figure no measurement here reaches
    cache.write_text(json.dumps(entries))
    assert flops.cpu_roofline(refresh=True, seconds=0.05)["bf16"] == measured["bf16"] * 1000
