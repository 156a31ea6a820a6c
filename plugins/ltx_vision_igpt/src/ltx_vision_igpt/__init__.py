"""ltx-vision-igpt: image-GPT as an ltx plugin (torch-free at import).

The registry reaches the heavy modules through ``"module:attr"`` strings in
:mod:`ltx_vision_igpt.plugin`; import :mod:`ltx_vision_igpt.model`,
:mod:`ltx_vision_igpt.task` or :mod:`ltx_vision_igpt.data` to use them directly.
"""

from __future__ import annotations

# A literal, not importlib.metadata: that import alone costs ~50 ms of `ltx list`.
__version__ = "0.2.0"

__all__ = ["__version__"]
