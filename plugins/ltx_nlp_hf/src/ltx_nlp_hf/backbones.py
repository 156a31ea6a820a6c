"""Backbone factories ``(config, info) -> transformers.PreTrainedModel``.

The task says which head it needs (``info["head"]``, from its ``backbone_info``);
the dataset says what the head must know (labels, vocabulary size, special token
ids). The built model's config is written back into ``info["hf_config"]``, which
the core stores in every checkpoint, so rebuilding from a checkpoint needs neither
the Hub nor the original weights.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableMapping
from typing import Any

from ltx_core.errors import LtxError
from ltx_nlp_hf.config.models import HFBackboneConfig, TinyBackboneConfig
from ltx_nlp_hf.hub import hub_error, resolve_model_path

__all__ = ["HEADS", "build_hf_backbone", "build_tiny_backbone", "head_config_kwargs"]

log = logging.getLogger(__name__)

#: Head names tasks ask for -> the transformers auto class that builds them.
HEADS = {
    "sequence-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "causal-lm": "AutoModelForCausalLM",
    "masked-lm": "AutoModelForMaskedLM",
    "multiple-choice": "AutoModelForMultipleChoice",
    "seq2seq-lm": "AutoModelForSeq2SeqLM",
}


def _auto_class(info: Mapping[str, Any]) -> Any:
    import transformers

    head = info.get("head")
    if head not in HEADS:
        raise LtxError(
            f"The task asked for the head {head!r}, which this backbone cannot build; "
            f"known heads: {', '.join(HEADS)}."
        )
    return getattr(transformers, HEADS[head])


def head_config_kwargs(info: Mapping[str, Any]) -> dict[str, Any]:
    """Config values the head needs from the dataset's hand-off."""
    out: dict[str, Any] = {}
    if info.get("head") in ("sequence-classification", "token-classification"):
        out["num_labels"] = int(info["num_labels"])
        if info.get("id2label"):
            out["id2label"] = {int(k): str(v) for k, v in info["id2label"].items()}
            out["label2id"] = {str(v): int(k) for k, v in info["id2label"].items()}
        if info.get("problem_type"):
            out["problem_type"] = info["problem_type"]
    if info.get("pad_token_id") is not None:
        out["pad_token_id"] = int(info["pad_token_id"])
    return out


def _set_config(cfg: Any, values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        setattr(cfg, key, value)


def _from_config(auto: Any, cfg: Any, name: str, trust_remote_code: bool = False) -> Any:
    try:
        return auto.from_config(cfg, trust_remote_code=trust_remote_code)
    except ValueError as exc:
        head = auto.__name__.removeprefix("AutoModelFor")
        raise LtxError(
            f"The backbone '{name}' ({cfg.model_type}) has no {head} "
            f"head; choose a model that has one (e.g. tiny-t5 or t5-small for seq2seq tasks)."
        ) from exc


def _rebuild(info: Mapping[str, Any], trust_remote_code: bool = False) -> Any:
    """The model of a checkpoint, from the config saved at its first build."""
    from transformers import AutoConfig

    saved = dict(info["hf_config"])
    config_cls = type(AutoConfig.for_model(saved["model_type"]))
    cfg = config_cls.from_dict(saved)
    return _from_config(
        _auto_class(info), cfg, saved.get("_name_or_path") or "checkpoint", trust_remote_code
    )


def _finish(model: Any, info: MutableMapping[str, Any]) -> Any:
    vocab = info.get("vocab_size")
    embeddings = model.get_input_embeddings()
    if vocab and embeddings is not None and int(vocab) > embeddings.num_embeddings:
        # The tokenizer has tokens the model has never seen (added special tokens).
        model.resize_token_embeddings(int(vocab))
    info["hf_config"] = model.config.to_dict()
    # from_pretrained hands the model over in eval mode, and Lightning keeps the modes it
    # finds: without this, fine-tuning would run with dropout off.
    model.train()
    return model


def build_hf_backbone(config: HFBackboneConfig, info: MutableMapping[str, Any]) -> Any:
    """Any Hugging Face model by hub name or local folder, with the task's head."""
    from transformers import AutoConfig

    if info.get("from_checkpoint") and info.get("hf_config"):
        model = _rebuild(info, config.trust_remote_code)
        return _finish(model, info)
    auto = _auto_class(info)
    name = config.pretrained_model_name_or_path
    option = "backbone.pretrained_model_name_or_path"
    path, local_only = resolve_model_path(name, "model")
    common = {
        "revision": config.revision,
        "trust_remote_code": config.trust_remote_code,
        "local_files_only": local_only,
    }
    try:
        cfg = AutoConfig.from_pretrained(path, **common)
    except (OSError, ValueError) as exc:
        raise hub_error(name, "model", option, exc) from None
    _set_config(cfg, head_config_kwargs(info))
    if info.get("head") == "causal-lm" and getattr(cfg, "is_decoder", None) is False:
        # Encoder models (BERT) predict the next token only as decoders with a causal mask.
        cfg.is_decoder = True
    _set_config(cfg, config.config_overrides)
    if config.pretrained:
        try:
            model = auto.from_pretrained(path, config=cfg, **common)
        except ValueError as exc:
            if "Unrecognized configuration class" in str(exc):
                _from_config(auto, cfg, name)  # raises the one-sentence error
            raise
        except OSError as exc:
            raise hub_error(name, "model", option, exc) from None
    else:
        model = _from_config(auto, cfg, name, config.trust_remote_code)
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    log.info("Built %s from '%s'.", type(model).__name__, name)
    return _finish(model, info)


def _tiny_config(config: TinyBackboneConfig, info: Mapping[str, Any]) -> Any:
    from transformers import BertConfig, GPT2Config, T5Config

    vocab = int(info.get("vocab_size") or 30522)
    pad = int(info.get("pad_token_id") or 0)
    eos = info.get("eos_token_id")
    bos = info.get("bos_token_id")
    if config.architecture == "bert":
        return BertConfig(
            vocab_size=vocab,
            hidden_size=config.hidden_size,
            num_hidden_layers=config.num_layers,
            num_attention_heads=config.num_heads,
            intermediate_size=config.intermediate_size,
            max_position_embeddings=config.max_position_embeddings,
            hidden_dropout_prob=config.dropout,
            attention_probs_dropout_prob=config.dropout,
            pad_token_id=pad,
        )
    if config.architecture == "gpt2":
        return GPT2Config(
            vocab_size=vocab,
            n_embd=config.hidden_size,
            n_layer=config.num_layers,
            n_head=config.num_heads,
            n_inner=config.intermediate_size,
            n_positions=config.max_position_embeddings,
            resid_pdrop=config.dropout,
            embd_pdrop=config.dropout,
            attn_pdrop=config.dropout,
            pad_token_id=pad,
            bos_token_id=bos if bos is not None else pad,
            eos_token_id=eos if eos is not None else pad,
        )
    return T5Config(
        vocab_size=vocab,
        d_model=config.hidden_size,
        d_kv=config.hidden_size // config.num_heads,
        d_ff=config.intermediate_size,
        num_layers=config.num_layers,
        num_decoder_layers=config.num_layers,
        num_heads=config.num_heads,
        dropout_rate=config.dropout,
        pad_token_id=pad,
        # T5 starts decoding from the pad token; it stops at whatever ends a target sequence.
        # PreTrainedConfig keeps undeclared kwargs at runtime (strict(accept_kwargs=True)), but
        # the dataclass __init__ mypy sees lists only T5Config's declared fields.
        decoder_start_token_id=pad,  # type: ignore[call-arg]
        eos_token_id=eos if eos is not None else pad,
    )


def build_tiny_backbone(config: TinyBackboneConfig, info: MutableMapping[str, Any]) -> Any:
    """A small random transformer sized for the tokenizer's vocabulary."""
    if info.get("from_checkpoint") and info.get("hf_config"):
        return _finish(_rebuild(info), info)
    cfg = _tiny_config(config, info)
    _set_config(cfg, head_config_kwargs(info))
    if info.get("head") == "causal-lm" and config.architecture == "bert":
        cfg.is_decoder = True
    model = _from_config(_auto_class(info), cfg, f"tiny-{config.architecture}")
    return _finish(model, info)
