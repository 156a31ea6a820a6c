"""Config models of the backbones and the tokenizer (pydantic only, torch-free)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from ltx_core.config.models import LtxConfig
from ltx_nlp_hf.catalogue import MINILM
from ltx_nlp_hf.peft_support import PeftOptions

__all__ = ["HFBackboneConfig", "HFTokenizerConfig", "TinyBackboneConfig"]


class HFBackboneConfig(LtxConfig):
    """Any Hugging Face model, by hub name or local folder, with the head the task asks for."""

    pretrained_model_name_or_path: str = Field(
        MINILM,
        description="Hub model name (e.g. 'bert-base-uncased') or a local folder holding "
        "config.json and the weights. A model that ships inside an installed package "
        "(all-MiniLM-L6-v2 with ltx-nlp-hf[minilm]) is used from there, offline.",
    )
    revision: str | None = Field(None, description="Hub branch, tag or commit (default: main).")
    pretrained: bool = Field(
        True,
        description="Load the pretrained weights; false builds the same architecture with "
        "random weights from its config.",
    )
    trust_remote_code: bool = Field(
        False,
        description="Run model code shipped with a hub repository. Off unless you trust the "
        "repository: the code runs on this machine.",
    )
    gradient_checkpointing: bool = Field(
        False, description="Recompute activations in the backward pass to save memory."
    )
    config_overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="Values set on the model's config before building it "
        "(e.g. {hidden_dropout_prob: 0.2}).",
    )
    load_in_4bit: bool = Field(
        False,
        description="QLoRA: load the pretrained weights in 4 bits (bitsandbytes NF4, bf16 "
        "compute) and train a peft adapter on them; needs a CUDA GPU, bitsandbytes and "
        "backbone.peft.",
    )
    peft: PeftOptions | None = Field(
        None,
        description="Parameter-efficient fine-tuning with peft: {method: lora, r: 8, alpha: 16, "
        "dropout: 0.05, target_modules: auto}; only the adapter and the task head train "
        "(None: every weight trains).",
    )

    @field_validator("pretrained_model_name_or_path")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("pretrained_model_name_or_path must name a hub model or a folder")
        return v.strip()


class TinyBackboneConfig(LtxConfig):
    """A small randomly initialised transformer built from a config object (tests, smoke runs)."""

    architecture: Literal["bert", "gpt2", "llama", "t5"] = Field(
        "bert",
        description="Model family: bert (encoder), gpt2 or llama (decoders) or t5 "
        "(encoder-decoder).",
    )
    hidden_size: int = Field(32, gt=0, description="Width of the hidden states.")
    num_layers: int = Field(2, gt=0, description="Transformer blocks (per stack for t5).")
    num_heads: int = Field(2, gt=0, description="Attention heads; must divide hidden_size.")
    intermediate_size: int = Field(64, gt=0, description="Width of the feed-forward layer.")
    max_position_embeddings: int = Field(
        512, gt=0, description="Longest sequence the position embeddings cover (bert, gpt2)."
    )
    dropout: float = Field(0.1, ge=0, lt=1, description="Dropout probability.")
    gradient_checkpointing: bool = Field(
        False, description="Recompute activations in the backward pass to save memory."
    )
    tokenizer_name_or_path: str = Field(
        MINILM,
        description="Tokenizer whose vocabulary the model is sized for; the 'hf-auto' "
        "tokenizer follows it.",
    )

    @field_validator("num_heads")
    @classmethod
    def _heads_divide(cls, v: int, info: ValidationInfo) -> int:
        hidden = info.data.get("hidden_size")
        if hidden is not None and hidden % v:
            raise ValueError(f"num_heads ({v}) must divide hidden_size ({hidden})")
        return v


class HFTokenizerConfig(LtxConfig):
    """``AutoTokenizer``; follows the backbone's model name unless given its own."""

    pretrained_model_name_or_path: str | None = Field(
        None,
        description="Hub name or local folder (default: the backbone's, so the two share "
        "their vocabulary).",
    )
    revision: str | None = Field(None, description="Hub branch, tag or commit (default: main).")
    use_fast: bool = Field(True, description="Use the Rust (tokenizers) implementation.")
    trust_remote_code: bool = Field(
        False, description="Run tokenizer code shipped with a hub repository."
    )
    padding_side: Literal["right", "left"] | None = Field(
        None, description="Side padding goes on (default: the tokenizer's own)."
    )
