"""Where ltx keeps what it computes once and reuses: the cache folder.

``$LTX_CACHE_DIR`` when set, else ``~/.cache/ltx``. Plugins keep their own part of it
in a sub-folder named after themselves (``igpt/``, ``models/``, ...), so one setting
moves (or isolates, in tests) everything at once.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir(*parts: str) -> Path:
    """The cache folder (``$LTX_CACHE_DIR`` else ``~/.cache/ltx``), joined with ``parts``."""
    root = os.environ.get("LTX_CACHE_DIR") or str(Path.home() / ".cache" / "ltx")
    return Path(root).expanduser().joinpath(*parts)
