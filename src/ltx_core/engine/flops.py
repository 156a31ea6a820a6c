"""Model FLOPs utilisation: FLOPs per training sample, the device's peak, and their ratio.

A run counts its model's training FLOPs (forward and backward) once, on its first
training batch, with PyTorch's :class:`~torch.utils.flop_counter.FlopCounterMode`:
the real batch, through the task's own ``training_step``, so whatever the task does
(heads, auxiliary losses, activation checkpointing's recomputation) is counted as it
runs. Achieved FLOP/s is that count per token times the run's measured tokens per
second where the task counts tokens (text: batches differ in length, and the first one
a length-grouped loader serves is its longest, so a count per sample would credit every
short batch with the longest one's work), else per sample times samples per second;
MFU is achieved FLOP/s over the peak of the devices it ran on.

Peaks: for NVIDIA GPUs, a table of dense (no sparsity) tensor-core peaks per dtype from
NVIDIA's data sheets; for CPUs, a short matmul roofline measured on this machine (the
best of a few large fp32 and bf16 matmuls with torch's current thread count), cached
in ``$LTX_CACHE_DIR/roofline.json`` (else ``~/.cache/ltx/roofline.json``) under the CPU
model, torch version and thread count. A CPU's "peak" is therefore what torch's own
matmul reaches here, not the vendor's figure: MFU on a CPU says how far a model's step
is from its best-shaped matmuls.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch.utils.flop_counter import FlopCounterMode

from ltx_core.config.paths import cache_dir
from ltx_core.engine.precision import cpu_model

__all__ = [
    "GPU_PEAK_FLOPS",
    "FlopsCounter",
    "compute_dtype",
    "cpu_model",
    "cpu_roofline",
    "device_peak_flops",
    "mfu_fields",
    "roofline_cache_path",
]

log = logging.getLogger(__name__)

#: Dense peak FLOP/s per dtype of NVIDIA GPUs, by a lower-case substring of the device
#: name (longest match wins; NVIDIA's data sheets, sparsity figures halved).
GPU_PEAK_FLOPS: dict[str, dict[str, float]] = {
    "h200": {"bf16": 989.4e12, "fp16": 989.4e12, "tf32": 494.7e12, "fp32": 66.9e12},
    "h100 pcie": {"bf16": 756.0e12, "fp16": 756.0e12, "tf32": 378.0e12, "fp32": 51.2e12},
    "h100": {"bf16": 989.4e12, "fp16": 989.4e12, "tf32": 494.7e12, "fp32": 66.9e12},
    "a100": {"bf16": 312.0e12, "fp16": 312.0e12, "tf32": 156.0e12, "fp32": 19.5e12},
    "l40s": {"bf16": 362.1e12, "fp16": 362.1e12, "tf32": 183.0e12, "fp32": 91.6e12},
    "l4": {"bf16": 121.0e12, "fp16": 121.0e12, "tf32": 60.0e12, "fp32": 30.3e12},
    "a10": {"bf16": 125.0e12, "fp16": 125.0e12, "tf32": 62.5e12, "fp32": 31.2e12},
    "v100": {"fp16": 125.0e12, "fp32": 15.7e12},
    "t4": {"fp16": 65.0e12, "fp32": 8.1e12},
}

#: Matmul sides of the CPU roofline; the fastest wins. Which size peaks differs by dtype
#: (on a 2-core AMX Xeon: fp32 at 2048, bf16 at 512), and three keep the whole
#: measurement to about three seconds on two cores.
ROOFLINE_SIZES = (512, 1024, 2048)
ROOFLINE_SECONDS = 0.3


def compute_dtype(precision: str, device_type: str = "cpu") -> str:
    """The dtype matmuls run in under a Lightning precision: bf16, fp16, tf32, fp32 or fp64."""
    p = str(precision)
    if p.startswith("bf16"):
        return "bf16"
    if p.startswith("16"):
        return "fp16"
    if p.startswith("64"):
        return "fp64"
    if device_type == "cuda" and torch.get_float32_matmul_precision() != "highest":
        return "tf32"
    return "fp32"


def roofline_cache_path() -> Path:
    """Where the CPU roofline is cached (``$LTX_CACHE_DIR`` else ``~/.cache/ltx``)."""
    return cache_dir("roofline.json")


def _roofline_key() -> str:
    return f"{cpu_model()} | torch {torch.__version__} | {torch.get_num_threads()} threads"


def _measure_matmul(dtype: torch.dtype, n: int, seconds: float) -> float:
    """Best FLOP/s of ``n x n`` matmuls over about ``seconds`` (after a warm-up)."""
    a = torch.randn(n, n).to(dtype)
    b = torch.randn(n, n).to(dtype)
    for _ in range(2):  # first calls pick kernels and fault pages in
        torch.mm(a, b)
    best = float("inf")
    deadline = time.perf_counter() + seconds
    while True:
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return 2.0 * n**3 / best


def cpu_roofline(*, refresh: bool = False, seconds: float = ROOFLINE_SECONDS) -> dict[str, Any]:
    """This CPU's matmul roofline: ``{"fp32": FLOP/s, "bf16": FLOP/s, "key": ..., ...}``.

    Measured once per CPU model, torch version and thread count and cached; ``refresh``
    measures again. The best (fastest) of many matmuls is kept, so another job on the
    machine lowers the figure less than it would a mean, and a new measurement never
    lowers the cached one (a peak measured on a busy machine is too low, never too high).
    """
    path = roofline_cache_path()
    key = _roofline_key()
    cache: dict[str, Any] = {}
    if path.is_file():
        try:
            cache = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache = {}
    if not refresh and isinstance(cache.get(key), dict):
        return dict(cache[key], key=key, cached=True)
    entry: dict[str, Any] = {
        name: max(_measure_matmul(dtype, n, seconds) for n in ROOFLINE_SIZES)
        for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))
    }
    earlier = cache.get(key)
    if isinstance(earlier, dict):
        for name in ("fp32", "bf16"):
            if isinstance(earlier.get(name), (int, float)):
                entry[name] = max(entry[name], float(earlier[name]))
    entry["matmul_sizes"] = list(ROOFLINE_SIZES)
    entry["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    cache[key] = entry
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cache, indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)  # atomic: two runs starting together never read half a file
    except OSError as exc:  # a read-only home still gets its MFU, measured each run
        log.debug("Could not cache the roofline at %s: %s", path, exc)
    return dict(entry, key=key, cached=False)


def _gpu_peak(name: str, dtype: str) -> float | None:
    chip = name.lower()
    matches = [k for k in GPU_PEAK_FLOPS if k in chip]
    if not matches:
        return None
    return GPU_PEAK_FLOPS[max(matches, key=len)].get(dtype)


def device_peak_flops(device: torch.device, precision: str) -> tuple[float | None, str]:
    """Peak FLOP/s of one device at a precision, and where the figure comes from."""
    dtype = compute_dtype(precision, device.type)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        peak = _gpu_peak(name, dtype)
        return peak, f"{name} {dtype} (data sheet, dense)" if peak else f"{name}: not in table"
    if device.type == "cpu":
        if dtype not in ("fp32", "bf16"):
            return None, f"cpu {dtype}: no roofline"
        roof = cpu_roofline()
        return float(roof[dtype]), f"cpu {dtype} matmul roofline ({roof['key']})"
    return None, f"{device.type}: no peak known"


class FlopsCounter(pl.Callback):
    """Counts the training FLOPs of the first training batch (forward and backward).

    The batch's own step runs under :class:`FlopCounterMode`: nothing is run twice and
    the count is of the real model on real data. Only matmuls, convolutions and
    attention have FLOP formulas in PyTorch's counter; those are what MFU is about.
    """

    def __init__(self) -> None:
        self.flops_per_sample: float | None = None
        self.flops_per_token: float | None = None
        self._mode: FlopCounterMode | None = None
        self._samples = 0
        self._tokens: int | None = None

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if self.flops_per_sample is not None or self._mode is not None:
            return
        stats = getattr(pl_module, "batch_stats", None)
        self._samples, self._tokens = stats(batch) if stats else (0, None)
        self._mode = FlopCounterMode(display=False)
        self._mode.__enter__()

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        self._stop()

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._stop()  # a run stopped inside its first batch

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        mode, self._mode = self._mode, None
        if mode is None:
            return
        mode.__exit__(None, None, None)
        total = mode.get_total_flops()
        if total > 0 and self._samples > 0:
            self.flops_per_sample = total / self._samples
        if total > 0 and self._tokens:
            self.flops_per_token = total / self._tokens


def mfu_fields(
    counter: FlopsCounter,
    throughput: dict[str, Any],
    device: torch.device,
    precision: str,
    world_size: int = 1,
) -> dict[str, Any]:
    """``flops_per_sample``, ``flops_per_s``, ``mfu`` (and the peak used) for summary.json.

    Fields whose inputs are missing (no FLOPs counted, a run too short to time, an
    unknown device) are ``None`` rather than left out, so readers find every key.
    """
    per_sample, per_token = counter.flops_per_sample, counter.flops_per_token
    samples_per_s, tokens_per_s = throughput.get("samples_per_s"), throughput.get("tokens_per_s")
    if per_token and tokens_per_s:
        achieved: float | None = per_token * tokens_per_s
    else:
        achieved = per_sample * samples_per_s if per_sample and samples_per_s else None
    try:
        peak, source = device_peak_flops(device, precision)
    except Exception as exc:  # a failed roofline never fails a finished run
        peak, source = None, f"no peak: {exc}"
    if achieved and peak and device.type == "cpu" and achieved > peak * world_size:
        # Faster than the cached roofline: it was measured while the machine was busy.
        # Measure again (the cache keeps the higher figure).
        try:
            cpu_roofline(refresh=True)
            peak, source = device_peak_flops(device, precision)
        except Exception as exc:  # a failed roofline never fails a finished run
            log.debug("Could not measure the roofline again: %s", exc)
    total_peak = peak * world_size if peak else None
    mfu = achieved / total_peak if achieved and total_peak else None
    return {
        "flops_per_sample": per_sample,
        "flops_per_token": per_token,
        "flops_per_s": achieved,
        "peak_flops_per_s": total_peak,
        "peak_flops_source": source,
        "mfu": mfu,
    }
