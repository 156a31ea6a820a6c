"""``optimizer.bf16_updates``: bf16 weights that still take small updates.

Under ``trainer.precision: bf16-true`` Lightning casts the model's parameters to bf16
(its ``HalfPrecision`` plugin's ``convert_module``) and a stock optimizer writes each
update straight into them. bf16 keeps 8 significant bits: an update smaller than half the
gap between a weight and its bf16 neighbour (about ``|w| * 2**-9``) rounds away, and with
a learning rate of 1e-4 or a decaying schedule most updates are that small. The remedies
here wrap the configured optimizer class (AdamW, Adam, SGD; fused, foreach or the plain
loop), and Lightning sees the optimizer it expects: its parameter groups hold the model's
bf16 parameters, so gradient clipping, learning-rate schedulers and the LR monitor work
unchanged. At each step, after the closure (forward, backward, clipping) ran, every bf16
parameter with a gradient is stepped in fp32 (its data swapped for an fp32 tensor, its
gradient widened, the optimizer's moments fp32), then written back:

- ``master-weights`` (the default): the fp32 tensor is the parameter's master copy, kept
  in the optimizer's state (``state[p]["fp32_master"]``) and written back by rounding to
  nearest. The copy is in the optimizer's state dict, so a checkpoint resumes exactly.
  Memory: weights, gradients and AdamW's state take 2 + 2 + 4 + 8 = 16 bytes per
  parameter, as much as fp32 training, while activations are bf16.
- ``stochastic-rounding``: no copy; the step runs on the weights widened to fp32 and is
  written back by stochastic rounding (:func:`stochastic_round_`), unbiased: an update of
  a fraction ``f`` of the gap moves the weight one gap with probability ``f``. 12 bytes per
  parameter. The noise comes from a generator of the optimizer's own (seeded from
  ``torch.initial_seed()``, the same on every rank, its state in the state dict).
- ``plain``: the optimizer steps on the bf16 weights (Lightning's own ``bf16-true``;
  moments in bf16 too): 8 bytes per parameter, and small updates are lost.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import torch

__all__ = [
    "BF16_UPDATES",
    "MASTER_KEY",
    "Bf16Adam",
    "Bf16AdamW",
    "Bf16SGD",
    "Bf16Updates",
    "bf16_updates_class",
    "fp32_starts",
    "stochastic_round_",
]

#: The choices of ``optimizer.bf16_updates``.
BF16_UPDATES = ("master-weights", "stochastic-rounding", "plain")
Mode = Literal["master-weights", "stochastic-rounding"]
#: Where a parameter's fp32 master copy lives in the optimizer's state.
MASTER_KEY = "fp32_master"
#: The optimizer state dict's entry for the stochastic-rounding generator.
_RNG_KEY = "bf16_rounding_rng"
# Added to torch.initial_seed() for the rounding generator: its own stream, not a copy of
# the global one that draws dropout masks and data order.
_RNG_OFFSET = 0x5EED_B16


def stochastic_round_(out: torch.Tensor, value: torch.Tensor, generator: Any = None) -> None:
    """Write fp32 ``value`` into bf16 ``out`` with stochastic rounding, in place.

    bf16 is fp32's upper 16 bits. Adding a uniform random integer in ``[0, 2**16)`` to the
    fp32 bit pattern and dropping the low 16 bits rounds up with probability equal to the
    dropped fraction, so ``E[out] == value``; the sign bit is untouched (the magnitude is
    rounded), infinities stay infinite and NaNs stay NaN.
    """
    bits = value.detach().contiguous().view(torch.int32)
    noise = torch.randint(
        0, 1 << 16, bits.shape, dtype=torch.int32, device=bits.device, generator=generator
    )
    rounded = bits.add(noise).bitwise_and_(-65536)  # 0xFFFF0000: keep the upper half
    out.copy_(rounded.view(torch.float32))  # exact: the low bits are zero


class Bf16Updates:
    """Mixed in before a ``torch.optim.Optimizer`` class: its bf16 parameters are stepped
    in fp32 and written back by ``bf16_updates`` (``master-weights`` or
    ``stochastic-rounding``); parameters of other dtypes are stepped as they are.

    Args (keyword, besides the optimizer's own):
        bf16_updates: ``master-weights`` or ``stochastic-rounding``.
        fp32_weights: fp32 values to start the master copies from, by parameter (the
            weights before Lightning cast them to bf16), taken over: the first step
            updates them in place. A parameter not in it starts from its bf16 value.
    """

    bf16_updates: Mode
    state: Any
    param_groups: list[dict[str, Any]]

    def __init__(
        self,
        params: Any,
        *args: Any,
        bf16_updates: Mode = "master-weights",
        fp32_weights: Mapping[torch.Tensor, torch.Tensor] | None = None,
        **kwargs: Any,
    ) -> None:
        if bf16_updates not in ("master-weights", "stochastic-rounding"):
            raise ValueError(
                f"bf16_updates must be 'master-weights' or 'stochastic-rounding', not "
                f"{bf16_updates!r} ('plain' is the optimizer itself)"
            )
        super().__init__(params, *args, **kwargs)  # type: ignore[call-arg]
        self.bf16_updates = bf16_updates
        self._fp32_weights: dict[torch.Tensor, torch.Tensor] = dict(fp32_weights or {})
        self._generator: torch.Generator | None = None
        self._saved_rng: dict[str, Any] | None = None

    # -- stepping -------------------------------------------------------------
    def _rounding_generator(self, device: torch.device) -> torch.Generator:
        if self._generator is None or self._generator.device != device:
            generator = torch.Generator(device=device)
            saved, self._saved_rng = self._saved_rng, None
            if saved is not None and saved["device"] == device.type:
                generator.set_state(saved["state"].cpu())  # where a resumed run left it
            else:
                generator.manual_seed((torch.initial_seed() + _RNG_OFFSET) % (1 << 63))
            self._generator = generator
        return self._generator

    def _widen(self) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Swap each bf16 parameter with a gradient for its fp32 version (and fp32
        gradient); ``(param, bf16 data, bf16 grad, fp32 data)`` to swap back."""
        swapped = []
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None or p.dtype != torch.bfloat16:
                    continue
                low, grad = p.data, p.grad
                high: torch.Tensor | None = None
                if self.bf16_updates == "master-weights":
                    high = self.state[p].get(MASTER_KEY) if p in self.state else None
                    start = self._fp32_weights.pop(p, None)
                    if high is None and start is not None and start.shape == p.shape:
                        high = start.to(device=p.device, dtype=torch.float32)
                if high is None:
                    high = low.float()
                p.grad = None
                p.data = high
                p.grad = grad.float()
                swapped.append((p, low, grad, high))
        return swapped

    def _narrow(
        self, swapped: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]
    ) -> None:
        for p, low, grad, high in swapped:
            if self.bf16_updates == "master-weights":
                low.copy_(high)  # round to nearest
                # Set after the step: Adam fills an empty state on its first step.
                self.state[p][MASTER_KEY] = high
            else:
                stochastic_round_(low, high, self._rounding_generator(high.device))
            p.grad = None
            p.data = low
            p.grad = grad

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        """Run ``closure`` (forward and backward), then the optimizer's step in fp32 on
        the bf16 parameters, written back as ``bf16_updates`` says."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        # The base class's step without torch's step hooks: they ran around this one.
        base = super().step.__func__  # type: ignore[misc]
        if getattr(base, "hooked", False):
            base = base.__wrapped__
        swapped = self._widen()
        try:
            base(self)
        finally:
            self._narrow(swapped)
        return loss

    # -- state dict -----------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()  # type: ignore[misc]
        if self._generator is not None:
            gen = self._generator
            state[_RNG_KEY] = {"device": gen.device.type, "state": gen.get_state()}
        return dict(state)

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """torch casts every floating-point state tensor to its parameter's dtype when it
        loads a state dict; here the fp32 masters and moments of bf16 parameters stay fp32."""
        state_dict = dict(state_dict)
        rng = state_dict.pop(_RNG_KEY, None)
        ids = [i for group in state_dict["param_groups"] for i in group["params"]]
        params = [p for group in self.param_groups for p in group["params"]]
        kept: dict[Any, dict[str, torch.Tensor]] = {}
        trimmed: dict[Any, Any] = {}
        for key, values in state_dict["state"].items():
            wide = {
                k: v
                for k, v in values.items()
                if k != "step" and isinstance(v, torch.Tensor) and v.is_floating_point()
            }
            kept[key] = wide
            trimmed[key] = {k: v for k, v in values.items() if k not in wide}
        super().load_state_dict({**state_dict, "state": trimmed})  # type: ignore[misc]
        for key, p in zip(ids, params, strict=False):
            for name, value in kept.get(key, {}).items():
                dtype = torch.float32 if p.dtype == torch.bfloat16 else p.dtype
                self.state[p][name] = value.to(device=p.device, dtype=dtype)
        self._fp32_weights.clear()  # the masters, where there are any, come from the state
        if rng is not None:  # made on the parameters' device at the next step
            self._generator, self._saved_rng = None, dict(rng)


class Bf16AdamW(Bf16Updates, torch.optim.AdamW):
    """AdamW whose bf16 parameters are stepped in fp32 (:class:`Bf16Updates`)."""


class Bf16Adam(Bf16Updates, torch.optim.Adam):
    """Adam whose bf16 parameters are stepped in fp32 (:class:`Bf16Updates`)."""


class Bf16SGD(Bf16Updates, torch.optim.SGD):
    """SGD whose bf16 parameters are stepped in fp32 (:class:`Bf16Updates`)."""


_KNOWN: dict[type, type] = {
    torch.optim.AdamW: Bf16AdamW,
    torch.optim.Adam: Bf16Adam,
    torch.optim.SGD: Bf16SGD,
}


@functools.cache
def bf16_updates_class(base: type[torch.optim.Optimizer]) -> type[torch.optim.Optimizer]:
    """``base`` with :class:`Bf16Updates` mixed in (AdamW, Adam and SGD have named classes
    here; another optimizer class gets one made for it)."""
    if base in _KNOWN:
        return _KNOWN[base]
    return type(f"Bf16{base.__name__}", (Bf16Updates, base), {"__module__": __name__})


def fp32_starts(
    named: Iterable[tuple[str, torch.Tensor]], saved: Mapping[str, torch.Tensor]
) -> dict[torch.Tensor, torch.Tensor]:
    """The saved fp32 values of parameters by name, keyed by the parameter."""
    return {p: saved[name] for name, p in named if name in saved}
