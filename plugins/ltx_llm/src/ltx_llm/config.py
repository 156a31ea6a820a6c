"""Config models of ltx-llm's datasets, task and prediction options (pydantic only,
torch-free: ``ltx info chat`` lists them without importing the task)."""

from __future__ import annotations

from typing import Literal

from ltx_nlp_hf.config import GenerationOptions, NLPTaskConfig
from ltx_nlp_hf.config.data import FileSourceConfig, TokenisedDataConfig
from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "ChatDataConfig",
    "ChatPredictOptions",
    "ChatSourceConfig",
    "ChatTaskConfig",
    "PreferenceDataConfig",
    "PreferenceTaskConfig",
]


class ChatSourceConfig(TokenisedDataConfig):
    """How conversations become training sequences (any record source of chat data)."""

    # TRL's default too. Without gradient checkpointing a causal LM keeps every layer's
    # activations for the backward pass: 32 rows of 512 tokens took over 20 GB with
    # SmolLM2-135M on a CPU (benchmarks/RESULTS.md), 8 rows take about a quarter of that.
    batch_size: int = Field(8, gt=0, description="Sequences per batch on each device.")
    max_length: int = Field(
        512,
        gt=8,
        description="Longest sequence in tokens. A longer conversation keeps its leading turns "
        "up to the last assistant answer that fits whole; one whose first answer does not fit "
        "is left out. Both are counted and reported.",
    )
    chat_template: str | None = Field(
        None,
        description="Jinja chat template, as a string or the path of a .jinja file "
        "(default: the tokenizer's own).",
    )
    train_on_prompt: bool = Field(
        False,
        description="Train on every token (system and user turns too), not only on the "
        "assistant turns.",
    )
    packing: bool | Literal["auto"] = Field(
        "auto",
        description="Pack several conversations into one training sequence (positions restart "
        "and attention stops at each boundary): true, false, or auto: on when conversations "
        "average at most half of max_length, where padding would waste most.",
    )

    @field_validator("chat_template")
    @classmethod
    def _not_blank(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("chat_template must be a Jinja template or the path of one")
        return v


class ChatDataConfig(ChatSourceConfig, FileSourceConfig):
    """Conversation files (JSON lines, JSON, Parquet, CSV): OpenAI messages, ShareGPT,
    Alpaca or prompt/completion records."""


class ChatTaskConfig(NLPTaskConfig):
    """Supervised fine-tuning of a causal LM on conversations."""

    generation: GenerationOptions = Field(
        default_factory=lambda: GenerationOptions(max_new_tokens=64),
        description="Decoding for the test split's generated answers and ltx predict.",
    )
    test_generation: bool = Field(
        True,
        description="On the test split, generate each conversation's last answer (greedy) and "
        "score it against the reference: test_exact_match, test_f1, test_rougeL.",
    )


class ChatPredictOptions(BaseModel):
    """Options of ``chat`` generation (``ltx predict --set``, ``ltx serve`` requests);
    unset ones take the checkpoint's ``task.generation``. Greedy unless a temperature
    above 0 is given."""

    model_config = ConfigDict(extra="forbid")

    max_new_tokens: int | None = Field(None, gt=0, description="Tokens to generate at most.")
    temperature: float | None = Field(
        None, ge=0, description="Sampling temperature (0 or unset: greedy)."
    )
    top_p: float | None = Field(None, gt=0, le=1, description="Nucleus sampling mass.")
    top_k: int | None = Field(None, ge=1, description="Sample among the k likeliest tokens.")
    stop: list[str] | None = Field(
        None, description="Strings that end the completion (not included in it)."
    )
    seed: int | None = Field(None, ge=0, description="Seed of the sampling (reproducible draws).")
    system: str | None = Field(
        None, description="A system message put before prompts that have none."
    )

    @field_validator("stop", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v


class PreferenceTaskConfig(ChatTaskConfig):
    """Preference tuning (DPO, ORPO, SimPO) on chosen/rejected pairs."""

    method: Literal["dpo", "orpo", "simpo"] = Field(
        "dpo",
        description="dpo (against the starting model's cached log-probabilities), orpo or "
        "simpo (reference-free).",
    )
    beta: float = Field(
        0.1, gt=0, description="Strength of the preference (DPO's β; SimPO's β, try 2.0)."
    )
    gamma: float = Field(0.5, ge=0, description="SimPO's target reward margin γ.")
    orpo_lambda: float = Field(
        0.1, gt=0, description="ORPO's weight λ of the odds-ratio term beside the NLL."
    )


class PreferenceDataConfig(ChatDataConfig):
    """Preference files: prompt/chosen/rejected records (strings or message lists)."""

    packing: bool | Literal["auto"] = Field(
        False, description="Pairs are never packed (each pair is scored on its own)."
    )
