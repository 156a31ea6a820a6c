"""The tokenizer factory: ``AutoTokenizer`` sharing its name with the backbone.

The tokenizer is built before the dataset (which tokenises with it) and before the
backbone, so it receives the backbone's *config* (``backbone=``) and follows its model
name unless the tokenizer names its own.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from ltx_core.errors import LtxError
from ltx_core.handoff import Restore
from ltx_nlp_hf.catalogue import MINILM
from ltx_nlp_hf.config.models import HFTokenizerConfig
from ltx_nlp_hf.hub import hub_error, resolve_model_path

__all__ = ["build_auto_tokenizer", "tokenizer_fingerprint", "tokenizer_source"]

log = logging.getLogger(__name__)


def tokenizer_source(config: HFTokenizerConfig, backbone: Any = None) -> str:
    """The name or folder to load: the tokenizer's own, else the backbone config's model
    (``pretrained_model_name_or_path``, or a tiny model's ``tokenizer_name_or_path``)."""
    if config.pretrained_model_name_or_path:
        return config.pretrained_model_name_or_path
    for attr in ("pretrained_model_name_or_path", "tokenizer_name_or_path"):
        value = getattr(backbone, attr, None)
        if isinstance(value, str) and value:
            return value
    return MINILM


def build_auto_tokenizer(
    config: HFTokenizerConfig, *, backbone: Any = None, restore: Restore | None = None
) -> Any:
    """``AutoTokenizer.from_pretrained`` with offline fallback and a pad token guaranteed.

    Args:
        config: The tokenizer section.
        backbone: The run's backbone config (its model name is the default source).
        restore: Set when rebuilding from a checkpoint; the tokenizer is loaded the same
            way (its files are not in the checkpoint).
    """
    from transformers import AutoTokenizer

    name = tokenizer_source(config, backbone)
    option = (
        "tokenizer.pretrained_model_name_or_path"
        if config.pretrained_model_name_or_path
        else "backbone.pretrained_model_name_or_path"
    )
    path, local_only = resolve_model_path(name, "tokenizer")
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            path,
            revision=config.revision,
            use_fast=config.use_fast,
            trust_remote_code=config.trust_remote_code,
            local_files_only=local_only,
        )
    except (OSError, ValueError) as exc:
        raise hub_error(name, "tokenizer", option, exc) from None
    if tokenizer.pad_token is None:
        # GPT-2 style tokenizers have no pad token; batching needs one, and padded positions
        # are masked out of the loss, so reusing end-of-text (or unknown) is harmless.
        fallback = tokenizer.eos_token or tokenizer.unk_token
        if fallback is None:
            raise LtxError(
                f"The tokenizer '{name}' has no padding, end-of-text or unknown token to pad with."
            )
        tokenizer.pad_token = fallback
    if config.padding_side is not None:
        tokenizer.padding_side = config.padding_side
    return tokenizer


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """A hash that changes whenever the tokenizer would tokenise differently."""
    h = hashlib.sha256()
    h.update(type(tokenizer).__name__.encode())
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        rules = json.loads(backend.to_str())
        # Truncation and padding are per-call state the tokenizer keeps from its last call,
        # not part of how it splits text.
        rules.pop("truncation", None)
        rules.pop("padding", None)
        h.update(json.dumps(rules, sort_keys=True).encode())
    else:  # a slow tokenizer: its vocabulary and name stand in for its rules
        h.update(str(getattr(tokenizer, "name_or_path", "")).encode())
        h.update(repr(sorted(tokenizer.get_vocab().items())).encode())
    specials = {k: str(v) for k, v in sorted(tokenizer.special_tokens_map.items())}
    h.update(repr(specials).encode())
    h.update(f"{tokenizer.padding_side}|{tokenizer.truncation_side}|{len(tokenizer)}".encode())
    return h.hexdigest()
