"""Shared fixtures: every test runs with ltx's fixtures (the pytest plugin that ships with
ltx-core: its own folder and registry, the session's cache); the real data in
``<repo>/../shared/data``, the packaged MiniLM tokenizer, and a helper that builds a
dataset the way the core does (tokenizer -> datamodule -> setup)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
SHARED = ROOT.parent / "shared" / "data"

# No network here: fail fast on anything that would try the Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def shared() -> Path:
    """``<repo>/../shared/data`` (tests that read it skip where it is absent)."""
    if not SHARED.is_dir():
        pytest.skip(f"no shared data at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def hf(shared: Path) -> Path:
    """The Hugging Face example samples: MRPC, conll, SQUAD, swag, wmt16, xsum, wiki_text."""
    return shared / "hf_samples"


@pytest.fixture(autouse=True)
def _ltx(ltx_env: Path) -> Iterator[None]:
    """Every test in its own folder, with a fresh registry and the session's cache (the
    tokenised data there is keyed by its inputs)."""
    yield


@pytest.fixture(scope="session")
def tokenizer() -> Any:
    """The all-MiniLM-L6-v2 tokenizer (BERT WordPiece, uncased), loaded offline."""
    from ltx_nlp_hf.config import HFTokenizerConfig, TinyBackboneConfig
    from ltx_nlp_hf.tokenizers import build_auto_tokenizer

    return build_auto_tokenizer(HFTokenizerConfig(), backbone=TinyBackboneConfig(), restore=None)


def family_config(cls: type) -> type:
    """The config model a data module class is registered with (its family's, with files)."""
    from ltx_nlp_hf.catalogue import DATASETS

    from ltx_core.registry.spec import load_object

    for spec in DATASETS:
        if spec.target.endswith(f":{cls.__name__}"):
            model: type = load_object(spec.config)
            return model
    raise LookupError(f"{cls.__name__} is not a registered data module")


@pytest.fixture
def make_dm(tokenizer: Any) -> Callable[..., Any]:
    """``make_dm(cls, **config)``: a datamodule set up as the core sets it up."""

    def make(cls: type, seed: int = 42, **config: Any) -> Any:
        dm = cls(family_config(cls)(**config), tokenizer=tokenizer, seed=seed)
        dm.prepare_data()
        dm.setup("fit")
        return dm

    return make
