"""``trainer.precision: auto``: bf16 mixed precision where the hardware computes it fast.

Resolved when a Trainer (or Fabric) is built, never in the config: ``ltx config`` and a
run's ``config.yaml`` keep ``auto``, so one config runs in bf16 on a machine with fast
bf16 and in fp32 elsewhere; ``summary.json`` records the precision a run used.

Fast bf16: on CPUs, AMX or AVX-512 BF16 units (the ``amx_bf16`` / ``avx512_bf16`` flags
of ``/proc/cpuinfo``), without which bf16 matmuls are emulated and slower than fp32; on
CUDA GPUs, compute capability 8.0 or later (Ampere and newer tensor cores). Anything
else gets ``32-true``. Torch-free until a CUDA check needs it.

Inference (``ltx test``, ``ltx predict``, and ``ltx serve`` through ``Predictor``) has
its own choice, :func:`resolve_inference_precision`: a precision asked for on the command
line wins; without one, the task's own default
(:attr:`~ltx_core.task.LtxTask.inference_precision`), else :data:`INFERENCE_DEFAULT`
(``32-true``). Inference's ``auto`` is bf16 autocast (``bf16-mixed``) where the hardware
has fast bf16 and the model's matmuls are wide enough for bf16 to pay
(:data:`BF16_MIN_WIDTH`), else ``32-true``. The precision a run was trained in is not
used: it says how to train, not how to predict.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from lightning_fabric.connector import _PRECISION_INPUT

__all__ = [
    "AUTO",
    "BF16_MIN_WIDTH",
    "FAST_BF16_CPU_FLAGS",
    "INFERENCE_BF16",
    "INFERENCE_DEFAULT",
    "cpu_flags",
    "cpu_has_fast_bf16",
    "cpu_model",
    "has_fast_bf16",
    "matmul_width",
    "resolve_inference_precision",
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


def has_fast_bf16(accelerator: str | None = "auto") -> bool:
    """Whether the device a run uses computes bf16 fast (``auto``: CUDA when there is
    one, else the CPU); mps and tpu: no (bf16 support varies; fp32 is the safe choice)."""
    acc = (accelerator or "auto").lower()
    if acc in ("gpu", "cuda"):
        return _cuda_has_fast_bf16()
    if acc == "auto":
        import torch

        return _cuda_has_fast_bf16() if torch.cuda.is_available() else cpu_has_fast_bf16()
    if acc == "cpu":
        return cpu_has_fast_bf16()
    return False


def resolve_precision(precision: str | None, accelerator: str | None = "auto") -> _PRECISION_INPUT:
    """A Lightning precision for ``precision``; ``auto`` becomes ``bf16-mixed`` or ``32-true``
    for the accelerator the run uses (``auto``: CUDA when there is one, else the CPU)."""
    if precision is None:
        return "32-true"
    if str(precision) != AUTO:
        # Lightning checks the value itself (the config's Literal already did).
        return cast("_PRECISION_INPUT", str(precision))
    return "bf16-mixed" if has_fast_bf16(accelerator) else "32-true"


#: What inference runs in when nothing is asked for and the task sets nothing. Not
#: ``auto``: on the 2-core AMX CPU, MiniLM fine-tuned on SST-2 (two checkpoints) changed
#: one of the 872 test labels in bf16 on each (a sentence scored 0.501 in fp32; once
#: under autocast, once with bf16 weights), so fp32 stays the default and bf16 is asked
#: for (``--precision auto`` or ``bf16-mixed``). See ``benchmarks/RESULTS.md``, "bf16
#: training and inference".
INFERENCE_DEFAULT = "32-true"
#: The precision inference's ``auto`` picks where bf16 pays: bf16 autocast over fp32
#: weights (``bf16-mixed``). Measured against bf16 weights (``bf16-true``) on MiniLM:
#: 1.7x vs 1.8x fp32's speed (best of 5 passes), the same labels but for one near-tie
#: each, and a test loss within 1e-4 of fp32's (bf16 weights: 1.3e-3, the loss itself
#: computed in bf16); autocast also keeps what a task computes in fp32 on purpose
#: (losses, softmax, igpt's palette distances) in fp32.
INFERENCE_BF16 = "bf16-mixed"
#: Matmul width (:func:`matmul_width`) from which inference's ``auto`` uses bf16: on the
#: 2-core AMX CPU, igpt's default model (64 wide) tested slower under bf16 autocast
#: (0.8x fp32's speed; bf16 weights 1.0x, with another test loss) while MiniLM (384 wide)
#: predicted 1.7x faster.
BF16_MIN_WIDTH = 256


def matmul_width(module: Any) -> int:
    """How wide a model's matmuls are: the smaller side of its weight matrices (2-d or
    more, embeddings left out), the median weighted by their sizes; 0 without any."""
    from torch import nn

    sizes: list[tuple[int, int]] = []
    for owner in module.modules():
        if isinstance(owner, nn.Embedding | nn.EmbeddingBag):
            continue
        for p in owner.parameters(recurse=False):
            if p.ndim >= 2 and p.is_floating_point():
                sizes.append((min(int(p.shape[0]), int(p[0].numel())), p.numel()))
    if not sizes:
        return 0
    sizes.sort()
    half, seen = sum(n for _, n in sizes) / 2, 0
    for width, n in sizes:
        seen += n
        if seen >= half:
            return width
    return sizes[-1][0]


def resolve_inference_precision(
    precision: str | None, accelerator: str | None = "auto", module: Any = None
) -> tuple[_PRECISION_INPUT, str]:
    """The precision of ``ltx test`` / ``ltx predict`` / ``Predictor``, and why.

    ``precision`` is what the command line asked for, used as given unless it is
    ``auto``. ``None``: the task's own
    :attr:`~ltx_core.task.LtxTask.inference_precision` if it sets one, else
    :data:`INFERENCE_DEFAULT`. ``auto`` (asked for, or a task's default) is
    :data:`INFERENCE_BF16` where the device has fast bf16 (:func:`has_fast_bf16`) and the
    model's matmuls are at least :data:`BF16_MIN_WIDTH` wide, else ``32-true``.
    """
    if precision is not None and str(precision) != AUTO:
        return cast("_PRECISION_INPUT", str(precision)), "as asked"
    if precision is None:
        own = getattr(type(module), "inference_precision", None) if module is not None else None
        default = own or INFERENCE_DEFAULT
        if default != AUTO:
            why = (
                f"the task's default '{own}'"
                if own
                else "the default; --precision auto picks bf16 where it pays"
            )
            return cast("_PRECISION_INPUT", default), why
    if not has_fast_bf16(accelerator):
        return "32-true", "auto: no fast bf16 on this device"
    width = matmul_width(module) if module is not None else BF16_MIN_WIDTH
    if width < BF16_MIN_WIDTH:
        return "32-true", f"auto: {width}-wide matmuls are too narrow for bf16 to pay"
    return cast("_PRECISION_INPUT", INFERENCE_BF16), "auto: fast bf16 on this device"
