"""Backbone factories ``(config, data, *, request, restore) -> BuiltBackbone``.

The task says which head it needs (``request``, a :class:`~ltx_nlp_hf.handoff.HeadRequest`
from its ``backbone_request``); the dataset's hand-off says what the head must know
(:class:`~ltx_nlp_hf.handoff.TokenizedData`: vocabulary size and special token ids, and
for classification heads the labels). The built model's config is returned as the
backbone's state, ``BuiltBackbone(model, {"hf_config": ...})``, which the core saves in
every checkpoint and hands back as ``restore.backbone_state``: rebuilding from a
checkpoint needs neither the Hub nor the original weights. (Checkpoints of ltx 0.1 kept
``hf_config`` in their one ``info`` dict, which the core hands back the same way.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, cast

from pydantic import ValidationError

from ltx_core.errors import LtxError
from ltx_core.handoff import BuiltBackbone, Restore
from ltx_nlp_hf.config.models import HFBackboneConfig, TinyBackboneConfig
from ltx_nlp_hf.handoff import HeadRequest, LabelledData, TokenizedData
from ltx_nlp_hf.head_labels import HeadReport, match_labels, reorder_head
from ltx_nlp_hf.hub import hub_error, resolve_model_path

__all__ = [
    "HEADS",
    "build_hf_backbone",
    "build_tiny_backbone",
    "head_config_kwargs",
    "plain_config",
]

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
#: Heads sized and named by the dataset's labels.
LABELLED_HEADS = ("sequence-classification", "token-classification")


def _head(request: HeadRequest | None) -> str:
    head = request.head if request is not None else None
    if head not in HEADS:
        raise LtxError(
            f"The task asked for the head {head!r}, which this backbone cannot build; "
            f"known heads: {', '.join(HEADS)}."
        )
    return head


def _auto_class(head: str) -> Any:
    import transformers

    return getattr(transformers, HEADS[head])


def head_config_kwargs(head: str, data: TokenizedData) -> dict[str, Any]:
    """Config values the head needs from the dataset's hand-off."""
    out: dict[str, Any] = {}
    if head in LABELLED_HEADS:
        try:
            labels = LabelledData.model_validate(data.as_dict())
        except ValidationError as exc:
            key = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise LtxError(
                f"The {head} head reads '{key}' from the dataset's hand-off, which the dataset "
                f"does not provide; use a dataset with labels for this task."
            ) from None
        out["num_labels"] = labels.num_labels
        if labels.id2label:
            out["id2label"] = {int(k): str(v) for k, v in labels.id2label.items()}
            out["label2id"] = {str(v): int(k) for k, v in labels.id2label.items()}
        problem_type = getattr(data, "problem_type", None)
        if problem_type:
            out["problem_type"] = problem_type
    if data.pad_token_id is not None:
        out["pad_token_id"] = int(data.pad_token_id)
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


def _saved_config(restore: Restore | None) -> dict[str, Any] | None:
    """The model config saved at the first build, when this build restores a checkpoint."""
    if restore is None:
        return None
    saved = restore.backbone_state.get("hf_config")
    return dict(saved) if isinstance(saved, Mapping) else None


def _rebuild(saved: dict[str, Any], head: str, trust_remote_code: bool = False) -> Any:
    """The model of a checkpoint, from the config saved at its first build."""
    from transformers import AutoConfig

    config_cls = type(AutoConfig.for_model(saved["model_type"]))
    cfg = config_cls.from_dict(saved)
    return _from_config(
        _auto_class(head), cfg, saved.get("_name_or_path") or "checkpoint", trust_remote_code
    )


def plain_config(config: Any) -> dict[str, Any]:
    """A model config as JSON data (strings, numbers, lists, dicts).

    Checkpoints are read with ``torch.load(weights_only=True)``, which refuses any other
    object: ``config.to_dict()`` keeps a quantization config's ``QuantizationMethod`` enum
    (QLoRA), and a checkpoint holding it could not be read back, even by the run's own test.
    """
    return cast(dict[str, Any], json.loads(config.to_json_string(use_diff=False)))


def _finish(model: Any, data: TokenizedData, report: HeadReport | None = None) -> BuiltBackbone:
    known = _vocab(model)  # 0: a model without input embeddings has nothing to resize
    if known and data.vocab_size > known:
        import torch

        # The tokenizer has tokens the model has never seen (added special tokens). Their
        # rows are drawn from a fixed seed: a rebuild for test, predict or resume makes the
        # same ones, which a PEFT checkpoint (no copy of the embeddings) relies on.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model.resize_token_embeddings(data.vocab_size)
    # from_pretrained hands the model over in eval mode, and Lightning keeps the modes it
    # finds: without this, fine-tuning would run with dropout off.
    model.train()
    # The one home of the model's config: saved in every checkpoint, read back on restore.
    state: dict[str, Any] = {"hf_config": plain_config(model.config)}
    if report is not None:
        state["head_report"] = report.to_state()
    return BuiltBackbone(model, state)


def build_hf_backbone(
    config: HFBackboneConfig,
    data: TokenizedData,
    *,
    request: HeadRequest | None,
    restore: Restore | None,
) -> BuiltBackbone:
    """Any Hugging Face model by hub name or local folder, with the task's head.

    Model code shipped with a hub repository runs only with
    ``backbone.trust_remote_code=true`` (off by default), on a fresh build and a restore.
    """
    from transformers import AutoConfig

    head = _head(request)
    saved = _saved_config(restore)
    if saved is not None and config.peft is None:
        model = _rebuild(saved, head, config.trust_remote_code)
        # The same model as at its first build: what was found about its head stays true.
        kept = HeadReport.from_state(restore.backbone_state.get("head_report") if restore else None)
        return _finish(_checkpointing(model, config), data, kept)
    auto = _auto_class(head)
    name = config.pretrained_model_name_or_path
    option = "backbone.pretrained_model_name_or_path"
    path, local_only = resolve_model_path(name, "model")
    common = {
        "revision": config.revision,
        "trust_remote_code": config.trust_remote_code,
        "local_files_only": local_only,
    }
    if saved is not None:
        # A PEFT checkpoint holds no base weights: they come from the base model it names,
        # built with the head config saved at the first build.
        cfg = type(AutoConfig.for_model(saved["model_type"])).from_dict(saved)
        if config.pretrained and "vocab_size" in saved:
            # The saved config counts rows added for the tokenizer's extra tokens; the
            # pretrained files have the base's, and the same rows are added again below.
            try:
                cfg.vocab_size = AutoConfig.from_pretrained(path, **common).vocab_size
            except (OSError, ValueError) as exc:
                raise hub_error(name, "model", option, exc) from None
        state = restore.backbone_state if restore is not None else {}
        report = HeadReport.from_state(state.get("head_report")) or (
            HeadReport(model=name, pretrained=config.pretrained)
        )
    else:
        try:
            cfg = AutoConfig.from_pretrained(path, **common)
        except (OSError, ValueError) as exc:
            raise hub_error(name, "model", option, exc) from None
        # A fine-tuned classifier's own labels, matched by name before the dataset's replace
        # them.
        report = _head_report(cfg, head, data, name, config.pretrained)
        _set_config(cfg, head_config_kwargs(head, data))
        if head == "causal-lm" and getattr(cfg, "is_decoder", None) is False:
            # Encoder models (BERT) predict the next token only as decoders with a causal mask.
            cfg.is_decoder = True
        _set_config(cfg, config.config_overrides)
    new_weights: list[str] | None = None  # under PEFT: weights not from the pretrained files
    quantized = _four_bit(config)
    if quantized:
        common["quantization_config"] = quantized
    if config.pretrained:
        # Labels other than the data's: training fits a new head (as run_glue.py's
        # --ignore_mismatched_sizes does); ltx test TASK refuses it from the report.
        try:
            model, loading = auto.from_pretrained(
                path,
                config=cfg,
                output_loading_info=True,
                ignore_mismatched_sizes=report.problem is not None,
                **common,
            )
        except ValueError as exc:
            if "Unrecognized configuration class" in str(exc):
                _from_config(auto, cfg, name)  # raises the one-sentence error
            raise
        except OSError as exc:
            raise hub_error(name, "model", option, exc) from None
        # The head's new weights; a base model's own (a pooler saved without) do not count.
        base = getattr(model, "base_model_prefix", "") or "\0"
        new = {
            *loading.get("missing_keys", ()),
            *(k[0] for k in loading.get("mismatched_keys", ())),
        }
        report.new_weights = sorted(k for k in new if k.split(".")[0] != base)
        new_weights = sorted(new)
        if report.order is not None and saved is None:  # a restore's head is in its checkpoint
            reorder_head(model, report.order, _probe(data))
    else:
        model = _from_config(auto, cfg, name, config.trust_remote_code)
    model = _checkpointing(model, config)
    log.info("Built %s from '%s'.", type(model).__name__, name)
    if config.peft is not None:
        from ltx_nlp_hf.peft_support import with_peft

        known = _vocab(model)
        built = _finish(model, data, report)
        # Tokens added by the tokenizer train beside the adapter (where the method can).
        added = list(range(known, _vocab(model)))
        return with_peft(built, config, head, new_weights, restore, added_tokens=added)
    return _finish(model, data, report)


def _four_bit(config: HFBackboneConfig) -> Any:
    """bitsandbytes' 4-bit config for ``backbone.load_in_4bit`` (QLoRA), or ``None``;
    refused in one sentence where it cannot run."""
    if not config.load_in_4bit:
        return None
    import importlib.util

    import torch

    if not torch.cuda.is_available():
        raise LtxError(
            "backbone.load_in_4bit (QLoRA) needs a CUDA GPU: bitsandbytes' 4-bit layers run "
            "on CUDA only; without one, use backbone.peft alone (LoRA on full weights)."
        )
    if importlib.util.find_spec("bitsandbytes") is None:
        raise LtxError("backbone.load_in_4bit needs bitsandbytes: pip install bitsandbytes")
    if not config.pretrained:
        raise LtxError("backbone.load_in_4bit quantises pretrained weights; keep pretrained=true.")
    if config.peft is None:
        raise LtxError(
            "backbone.load_in_4bit trains an adapter on frozen 4-bit weights; set "
            "backbone.peft too (e.g. backbone.peft='{method: lora, r: 16}')."
        )
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )


def _vocab(model: Any) -> int:
    embeddings = model.get_input_embeddings()
    return 0 if embeddings is None else int(embeddings.num_embeddings)


def _checkpointing(model: Any, config: HFBackboneConfig | TinyBackboneConfig) -> Any:
    """Activation checkpointing by config: each layer's activations recomputed in backward."""
    if config.gradient_checkpointing:
        # Non-reentrant: gradients reach adapters and heads even when the embeddings whose
        # outputs enter the first checkpointed layer are frozen (as under PEFT).
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    return model


def _head_report(
    cfg: Any, head: str, data: TokenizedData, name: str, pretrained: bool
) -> HeadReport:
    if not pretrained:
        return HeadReport(model=name, pretrained=False)
    names = getattr(data, "label_names", None)
    if head not in LABELLED_HEADS or not isinstance(names, list):
        return HeadReport(model=name, pretrained=True)
    return match_labels(cfg, names, name)


def _probe(data: TokenizedData) -> dict[str, Any]:
    """A one-row batch of real token ids, for checking a re-ordered head."""
    import torch

    ids = [min(1000 + i, data.vocab_size - 1) for i in range(6)]
    if data.eos_token_id is not None:
        ids.append(int(data.eos_token_id))
    tensor = torch.tensor([ids])
    return {"input_ids": tensor, "attention_mask": torch.ones_like(tensor)}


def _tiny_config(config: TinyBackboneConfig, data: TokenizedData) -> Any:
    from transformers import BertConfig, GPT2Config, LlamaConfig, T5Config

    vocab = data.vocab_size
    pad = data.pad_token_id or 0
    eos = data.eos_token_id
    bos = data.bos_token_id
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
    if config.architecture == "llama":
        # The shape of today's chat models (rotary positions, RMSNorm, SwiGLU, tied
        # embeddings as SmolLM2 has), in miniature.
        return LlamaConfig(
            vocab_size=vocab,
            hidden_size=config.hidden_size,
            intermediate_size=config.intermediate_size,
            num_hidden_layers=config.num_layers,
            num_attention_heads=config.num_heads,
            num_key_value_heads=config.num_heads,
            max_position_embeddings=config.max_position_embeddings,
            attention_dropout=config.dropout,
            tie_word_embeddings=True,
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


def build_tiny_backbone(
    config: TinyBackboneConfig,
    data: TokenizedData,
    *,
    request: HeadRequest | None,
    restore: Restore | None,
) -> BuiltBackbone:
    """A small random transformer sized for the tokenizer's vocabulary."""
    head = _head(request)
    saved = _saved_config(restore)
    if saved is not None:
        return _finish(_checkpointing(_rebuild(saved, head), config), data)
    cfg = _tiny_config(config, data)
    _set_config(cfg, head_config_kwargs(head, data))
    if head == "causal-lm" and config.architecture == "bert":
        cfg.is_decoder = True
    model = _from_config(_auto_class(head), cfg, f"tiny-{config.architecture}")
    return _finish(_checkpointing(model, config), data)
