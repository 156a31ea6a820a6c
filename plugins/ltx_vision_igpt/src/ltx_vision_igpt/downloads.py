"""Where datasets live on disk, and fetching them when they are missing (offline-friendly).

Most machines that train have no route to the dataset hosts, so a missing
dataset is checked for reachability first and reported in one sentence that
says where the files must go, instead of a long download traceback.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlparse

from ltx_core.errors import LtxError

__all__ = ["data_root", "ensure_files"]

log = logging.getLogger(__name__)


def data_root(configured: str | None) -> Path:
    """``dataset.data_dir``, else ``$LTX_DATA_DIR``, else ``~/.cache/ltx/data``."""
    if configured:
        return Path(configured).expanduser()
    env = os.environ.get("LTX_DATA_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ltx" / "data"


def _reachable(url: str, timeout: float = 3.0) -> str | None:
    """None if the download host answers; else why not (no network here is common)."""
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{parsed.hostname} is unreachable: {exc}"


def ensure_files(
    files: Sequence[Path],
    *,
    title: str,
    url: str,
    root: Path,
    where: str,
    download: bool,
    timeout: float,
    fetch: Callable[[], None],
) -> None:
    """Make sure ``files`` exist, calling ``fetch`` to download them into ``root`` if allowed.

    Raises :class:`LtxError` naming ``where`` the files must end up when they are
    missing and cannot be fetched.
    """
    if all(p.is_file() for p in files):
        return
    missing = f"{title} is not under {root}"
    how = (
        f"download it from {url} and unpack it so that {where} holds "
        f"torchvision's files, or set dataset.data_dir to a folder that has them"
    )
    if not download:
        raise LtxError(f"{missing} and dataset.download is off; {how}.")
    reason = _reachable(url)
    if reason is None:
        old = socket.getdefaulttimeout()
        # A stalled connection must fail, not hang a training job forever.
        socket.setdefaulttimeout(timeout)
        try:
            log.info("Downloading %s into %s", title, root)
            root.mkdir(parents=True, exist_ok=True)
            fetch()
        except Exception as exc:  # network errors come in many types
            reason = f"{type(exc).__name__}: {exc}"
        finally:
            socket.setdefaulttimeout(old)
    if reason is not None or not all(p.is_file() for p in files):
        raise LtxError(f"{missing} and could not be downloaded ({reason}); {how}.")
