"""Backbones and the tokenizer: every head on the tiny models, the embedded MiniLM offline,
rebuilding from a checkpoint's saved config without the Hub, and clear errors for models
that cannot be found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from ltx_nlp_hf import backbones, hub
from ltx_nlp_hf.backbones import build_hf_backbone, build_tiny_backbone
from ltx_nlp_hf.config import HFBackboneConfig, HFTokenizerConfig, TinyBackboneConfig
from ltx_nlp_hf.handoff import HeadRequest, TokenizedData
from ltx_nlp_hf.tokenizers import build_auto_tokenizer, tokenizer_fingerprint

from ltx_core.errors import LtxError
from ltx_core.handoff import BuiltBackbone, Restore

LABELS = {
    "num_labels": 3,
    "id2label": {0: "a", 1: "b", 2: "c"},
    "label_names": ["a", "b", "c"],
    "label_kind": "str",
}


def data_for(tokenizer: Any, **extra: Any) -> TokenizedData:
    """The tokenizer's part of a hand-off, with labels or other family fields as extras."""
    return TokenizedData(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.sep_token_id,
        bos_token_id=tokenizer.cls_token_id,
        max_length=128,
        **extra,
    )


def build(factory: Any, config: Any, data: TokenizedData, head: str, **kw: Any) -> Any:
    return factory(config, data, request=HeadRequest(head=head), restore=kw.get("restore"))


@pytest.mark.parametrize(
    ("arch", "head", "extra"),
    [
        ("bert", "sequence-classification", LABELS),
        ("bert", "token-classification", LABELS),
        ("bert", "question-answering", {}),
        ("bert", "masked-lm", {}),
        ("bert", "multiple-choice", {}),
        ("bert", "causal-lm", {}),
        ("gpt2", "causal-lm", {}),
        ("gpt2", "sequence-classification", LABELS),
        ("t5", "seq2seq-lm", {}),
    ],
)
def test_tiny_backbones_build_every_head(
    tokenizer: Any, arch: str, head: str, extra: dict[str, Any]
) -> None:
    built = build(
        build_tiny_backbone,
        TinyBackboneConfig(architecture=arch),
        data_for(tokenizer, **extra),
        head,
    )
    assert isinstance(built, BuiltBackbone)
    model = built.module
    assert built.state["hf_config"]["model_type"] == arch
    ids = torch.tensor([[101, 2023, 2003, 102]])
    inputs: dict[str, Any] = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if head == "multiple-choice":
        inputs = {k: v.unsqueeze(1).repeat(1, 2, 1) for k, v in inputs.items()}
    if head == "seq2seq-lm":
        inputs["labels"] = ids
    out = model(**inputs)
    first = out.start_logits if head == "question-answering" else out.logits
    assert first.shape[0] == 1
    if head == "sequence-classification":
        assert out.logits.shape == (1, 3) and model.config.id2label[2] == "c"


def test_embedded_minilm_loads_offline_with_a_fresh_head(tokenizer: Any) -> None:
    data = data_for(
        tokenizer,
        num_labels=2,
        id2label={0: "negative", 1: "positive"},
        label_names=["negative", "positive"],
        label_kind="str",
    )
    model = build(build_hf_backbone, HFBackboneConfig(), data, "sequence-classification").module
    assert model.config.hidden_size == 384 and model.config.num_hidden_layers == 6
    assert model.config.id2label == {0: "negative", 1: "positive"}
    # The encoder is pretrained: its weights equal the packaged checkpoint's.
    from safetensors.torch import load_file

    path = hub.embedded_model_path("sentence-transformers/all-MiniLM-L6-v2")
    assert path is not None
    saved = load_file(str(path / "model.safetensors"))
    key = next(k for k in saved if k.endswith("word_embeddings.weight"))
    assert torch.equal(model.bert.embeddings.word_embeddings.weight, saved[key])


def test_rebuild_from_checkpoint_needs_no_hub_or_files(
    tokenizer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = data_for(tokenizer, **LABELS)
    first, state = build(build_hf_backbone, HFBackboneConfig(), data, "token-classification")

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a checkpoint rebuild must not look for the pretrained files")

    monkeypatch.setattr(backbones, "resolve_model_path", unreachable)
    restore = Restore("run.ckpt", data.as_dict(), state)
    again, again_state = build(
        build_hf_backbone, HFBackboneConfig(), data, "token-classification", restore=restore
    )
    assert again_state == state
    assert type(again) is type(first)
    # ltx 0.1 checkpoints kept the model config inside their one info dict, which the core
    # hands back as both the hand-off and the backbone's state.
    info = {**data.as_dict(), "head": "token-classification", "hf_config": state["hf_config"]}
    old, _ = build(
        build_hf_backbone, HFBackboneConfig(), data, "token-classification",
        restore=Restore("old.ckpt", info, info),
    )  # fmt: skip
    assert old.config.to_dict()["id2label"] == first.config.to_dict()["id2label"]
    assert again.config.to_dict()["id2label"] == first.config.to_dict()["id2label"]
    assert sum(p.numel() for p in again.parameters()) == sum(p.numel() for p in first.parameters())


def test_unreachable_hub_model_is_one_sentence(tokenizer: Any) -> None:
    cfg = HFBackboneConfig(pretrained_model_name_or_path="no-such-org/no-such-model")
    with pytest.raises(LtxError) as exc:
        build(build_hf_backbone, cfg, data_for(tokenizer, **LABELS), "sequence-classification")
    text = str(exc.value)
    assert "Could not load the model 'no-such-org/no-such-model'" in text
    assert "backbone.pretrained_model_name_or_path" in text and "local folder" in text
    assert "\n" not in text


def test_missing_local_folder(tokenizer: Any, tmp_path: Path) -> None:
    cfg = HFBackboneConfig(pretrained_model_name_or_path=str(tmp_path / "nowhere" / "model"))
    with pytest.raises(LtxError, match="folder '.*nowhere/model' does not exist"):
        build(build_hf_backbone, cfg, data_for(tokenizer), "masked-lm")


def test_encoder_has_no_seq2seq_head(tokenizer: Any) -> None:
    with pytest.raises(LtxError, match="has no Seq2SeqLM head"):
        build(build_hf_backbone, HFBackboneConfig(), data_for(tokenizer), "seq2seq-lm")


def test_local_folder_backbone_and_tokenizer(tokenizer: Any, tmp_path: Path) -> None:
    """A folder written by save_pretrained is a backbone and a tokenizer by path."""
    model = build(
        build_tiny_backbone, TinyBackboneConfig(), data_for(tokenizer), "masked-lm"
    ).module
    model.save_pretrained(tmp_path / "mine")
    tokenizer.save_pretrained(tmp_path / "mine")
    cfg = HFBackboneConfig(pretrained_model_name_or_path=str(tmp_path / "mine"))
    loaded = build(build_hf_backbone, cfg, data_for(tokenizer), "masked-lm").module
    assert torch.equal(loaded.get_input_embeddings().weight, model.get_input_embeddings().weight)
    tok = build_auto_tokenizer(HFTokenizerConfig(), backbone=cfg, restore=None)
    assert tokenizer_fingerprint(tok) == tokenizer_fingerprint(tokenizer)


def test_tokenizer_without_pad_token_gets_one(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<unk>": 0, "</s>": 1, "hello": 2, "world": 3}
    raw = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(
        tokenizer_object=raw, eos_token="</s>", unk_token="<unk>"
    ).save_pretrained(tmp_path / "tok")
    tok = build_auto_tokenizer(
        HFTokenizerConfig(pretrained_model_name_or_path=str(tmp_path / "tok"), padding_side="left"),
        backbone=None,
        restore=None,
    )
    assert tok.pad_token == "</s>" and tok.padding_side == "left"
    assert tok(["hello", "hello world"], padding=True)["input_ids"][0] == [1, 2]


def test_tokenizer_follows_the_backbone() -> None:
    from ltx_nlp_hf.tokenizers import tokenizer_source

    backbone = HFBackboneConfig(pretrained_model_name_or_path="org/model")
    assert tokenizer_source(HFTokenizerConfig(), backbone) == "org/model"
    own = HFTokenizerConfig(pretrained_model_name_or_path="other/tok")
    assert tokenizer_source(own, backbone) == "other/tok"
    tiny = TinyBackboneConfig(tokenizer_name_or_path="vocab/src")
    assert tokenizer_source(HFTokenizerConfig(), tiny) == "vocab/src"


def test_fingerprint_ignores_per_call_state(tokenizer: Any) -> None:
    """Tokenising with truncation leaves state in a fast tokenizer; the cache key must not
    change because of it, or a second identical run would tokenise again."""
    before = tokenizer_fingerprint(tokenizer)
    tokenizer(["some text"], truncation=True, max_length=7, padding="max_length")
    assert tokenizer_fingerprint(tokenizer) == before


def test_the_saved_config_reads_back_with_weights_only(tmp_path: Path) -> None:
    """A QLoRA model's config holds a quantization config whose method is an enum; the
    config a checkpoint keeps is plain data, so ``torch.load(weights_only=True)`` (how every
    checkpoint is read) accepts it and the rebuild sees the same values."""
    from ltx_nlp_hf.backbones import plain_config
    from transformers import BitsAndBytesConfig, LlamaConfig

    config = LlamaConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64, vocab_size=100)  # fmt: skip
    config.quantization_config = BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16
    )
    path = tmp_path / "state.pt"
    torch.save({"hf_config": config.to_dict()}, path)
    with pytest.raises(Exception, match="Weights only load failed"):
        torch.load(path, weights_only=True)
    torch.save({"hf_config": plain_config(config)}, path)
    saved = torch.load(path, weights_only=True)["hf_config"]
    assert saved["quantization_config"]["quant_method"] == "bitsandbytes"
    assert saved["quantization_config"]["bnb_4bit_compute_dtype"] == "bfloat16"
    assert LlamaConfig.from_dict(saved).hidden_size == 32
