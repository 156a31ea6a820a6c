"""Shared fixtures: ltx's own (each test in its own folder and registry, the session's
cache), the packaged tiny chat tokenizer, and a tiny random Llama sized for it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "ltx_llm" / "sample_data"


@pytest.fixture(autouse=True)
def _ltx(ltx_env: Path) -> Iterator[None]:
    yield


@pytest.fixture(scope="session")
def chat_tokenizer() -> Any:
    """The packaged tiny ChatML tokenizer, as ``hf-auto`` builds it."""
    from ltx_nlp_hf.config import HFTokenizerConfig
    from ltx_nlp_hf.tokenizers import build_auto_tokenizer

    return build_auto_tokenizer(
        HFTokenizerConfig(pretrained_model_name_or_path="ltx-llm/tiny-chat"), restore=None
    )


@pytest.fixture(scope="session")
def tiny_llama(chat_tokenizer: Any) -> Any:
    """A random two-layer Llama for the tiny tokenizer, in eval mode."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(chat_tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=chat_tokenizer.pad_token_id,
    )
    return LlamaForCausalLM(cfg).eval()


@pytest.fixture(scope="session")
def samples() -> Path:
    """The packaged sample data folder."""
    return SAMPLES
