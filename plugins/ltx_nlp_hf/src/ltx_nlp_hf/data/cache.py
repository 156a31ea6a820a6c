"""The tokenised-dataset cache: a second identical data setup skips tokenisation.

An entry is keyed by everything that changes the tokenised result: the data files'
contents (or a hub dataset's fingerprint), the tokenizer's rules, the dataset class
and its settings, the seed of the validation split, and this module's format
version. It is written to a temporary folder and renamed into place, so processes
of a multi-GPU run that tokenise at the same time never see half an entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["CACHE_FORMAT", "TokenisedCache", "cache_key", "default_cache_root"]

log = logging.getLogger(__name__)

#: Bump when the tokenised layout changes, so old entries are not read back.
CACHE_FORMAT = 1


def default_cache_root() -> Path:
    """``$LTX_CACHE_DIR``, else ``$XDG_CACHE_HOME/ltx``, else ``~/.cache/ltx``."""
    if os.environ.get("LTX_CACHE_DIR"):
        return Path(os.environ["LTX_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "ltx"


def cache_key(material: dict[str, Any]) -> str:
    """A stable hash of JSON-able key material."""
    blob = json.dumps({"format": CACHE_FORMAT, **material}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class TokenisedCache:
    """One cache entry: tokenised splits (Arrow, memory-mapped on load) and their metadata."""

    def __init__(self, root: str | Path | None, key: str) -> None:
        self.root = (Path(root).expanduser() if root else default_cache_root()) / "nlp-hf"
        self.key = key
        self.path = self.root / key

    def load(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """``(datasets by name, metadata)``, or ``None`` when there is no usable entry."""
        meta_file = self.path / "meta.json"
        if not meta_file.is_file():
            return None
        from datasets import load_from_disk

        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            parts = {name: load_from_disk(str(self.path / name)) for name in meta["parts"]}
        except Exception as exc:  # a damaged entry is rebuilt, never fatal
            log.warning("Ignoring the damaged cache entry %s (%s).", self.path, exc)
            return None
        return parts, meta["meta"]

    def save(self, parts: dict[str, Any], meta: dict[str, Any]) -> None:
        """Write an entry atomically (quietly: a cache write is no step of the user's run)."""
        with _no_progress_bars():
            self._save(parts, meta)

    def _save(self, parts: dict[str, Any], meta: dict[str, Any]) -> None:
        # Failing to write only costs the next run its speed-up.
        tmp = self.root / f".{self.key}.tmp-{os.getpid()}"
        try:
            if tmp.exists():
                shutil.rmtree(tmp)
            tmp.mkdir(parents=True)
            for name, ds in parts.items():
                ds.save_to_disk(str(tmp / name))
            (tmp / "meta.json").write_text(
                json.dumps({"parts": list(parts), "meta": meta}), encoding="utf-8"
            )
            if self.path.exists():  # another process finished first; its entry is identical
                shutil.rmtree(tmp)
                return
            os.replace(tmp, self.path)
            log.info("Cached the tokenised data in %s.", self.path)
        except OSError as exc:
            log.warning("Could not write the tokenised-data cache %s (%s).", self.path, exc)
            shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _no_progress_bars() -> Iterator[None]:
    """``datasets``' progress bars off for the block, as they were after it."""
    from datasets.utils import logging as ds_logging

    was_on = ds_logging.is_progress_bar_enabled()
    ds_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            ds_logging.enable_progress_bar()
