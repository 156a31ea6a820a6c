"""``trainer.precision: auto``: bf16 mixed precision where the hardware computes it fast.

Resolved when a Trainer (or Fabric) is built, never in the config: ``ltx config`` and a
run's ``config.yaml`` keep ``auto``, so one config runs in bf16 on a machine with fast
bf16 and in fp32 elsewhere; ``summary.json`` records the precision a run used.

Fast bf16: on CPUs, AMX or AVX-512 BF16 units (the ``amx_bf16`` / ``avx512_bf16`` flags
of ``/proc/cpuinfo``), without which bf16 matmuls are emulated and slower than fp32; on
CUDA GPUs, compute capability 8.0 or later (Ampere and newer tensor cores). Anything
else gets ``32-true``. Torch-free until a CUDA check needs it.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from lightning_fabric.connector import _PRECISION_INPUT

__all__ = [
    "AUTO",
    "FAST_BF16_CPU_FLAGS",
    "cpu_flags",
    "cpu_has_fast_bf16",
    "cpu_model",
    "resolve_precision",
]

AUTO = "auto"
#: CPU flags (``/proc/cpuinfo``) of bf16 matmul units.
FAST_BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


@functools.cache
def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU's feature flags (``/proc/cpuinfo``; empty where it cannot tell)."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_has_fast_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU has AMX or AVX-512 BF16 units (False where it cannot tell)."""
    flags = cpu_flags(cpuinfo)
    return any(flag in flags for flag in FAST_BF16_CPU_FLAGS)


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``; the platform's processor string elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown cpu"


def _cuda_has_fast_bf16() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.get_device_capability() >= (8, 0)


def resolve_precision(precision: str | None, accelerator: str | None = "auto") -> _PRECISION_INPUT:
    """A Lightning precision for ``precision``; ``auto`` becomes ``bf16-mixed`` or ``32-true``
    for the accelerator the run uses (``auto``: CUDA when there is one, else the CPU)."""
    if precision is None:
        return "32-true"
    if str(precision) != AUTO:
        # Lightning checks the value itself (the config's Literal already did).
        return cast("_PRECISION_INPUT", str(precision))
    acc = (accelerator or "auto").lower()
    if acc in ("gpu", "cuda"):
        fast = _cuda_has_fast_bf16()
    elif acc == "auto":
        import torch

        fast = _cuda_has_fast_bf16() if torch.cuda.is_available() else cpu_has_fast_bf16()
    elif acc == "cpu":
        fast = cpu_has_fast_bf16()
    else:  # mps, tpu: bf16 autocast support varies; fp32 is the safe default
        fast = False
    return "bf16-mixed" if fast else "32-true"
