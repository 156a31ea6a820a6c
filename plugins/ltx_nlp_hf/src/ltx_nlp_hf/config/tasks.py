"""Config models of the tasks (pydantic only, torch-free)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from ltx_core.config.models import LtxConfig

try:
    from ltx_core.config.models import TaskConfig
except ImportError:
    # ltx_core.task imports torch and Lightning; `ltx config` and `ltx list` must not, so
    # this module takes TaskConfig from the torch-free configs module when it is there.
    # TaskConfig adds nothing to LtxConfig, so the fallback validates identically.
    TaskConfig = LtxConfig  # type: ignore[misc, assignment]

__all__ = [
    "GenerationOptions",
    "LanguageModelingConfig",
    "MaskedLanguageModelingConfig",
    "MultipleChoiceConfig",
    "NLPTaskConfig",
    "QuestionAnsweringConfig",
    "Seq2SeqConfig",
    "SummarizationConfig",
    "TextClassificationConfig",
    "TokenClassificationConfig",
    "TranslationConfig",
]


class NLPTaskConfig(TaskConfig):
    """What every task of this plugin shares."""

    export_hf: bool = Field(
        True,
        description="At the end of a run, write RUN/artifacts/hf_model: the model, its tokenizer "
        "and label names, loadable with transformers' from_pretrained (and pipeline where one "
        "exists).",
    )


class GenerationOptions(LtxConfig):
    """Decoding settings for generation (validation metrics and ``ltx predict``)."""

    max_new_tokens: int = Field(64, gt=0, description="Tokens to generate at most.")
    num_beams: int = Field(1, ge=1, description="Beam width (1: greedy or sampling).")
    do_sample: bool = Field(False, description="Sample instead of picking the likeliest token.")
    temperature: float = Field(1.0, gt=0, description="Sampling temperature.")
    top_k: int | None = Field(None, ge=1, description="Sample among the k likeliest tokens.")
    top_p: float | None = Field(None, gt=0, le=1, description="Nucleus sampling mass.")


class TextClassificationConfig(NLPTaskConfig):
    """Classify texts or text pairs (single-label, multi-label) or score them (regression)."""

    multi_label_threshold: float = Field(
        0.5, gt=0, lt=1, description="Multi-label: a class is predicted when its sigmoid is above."
    )
    f1_average: Literal["auto", "binary", "macro", "micro", "weighted"] = Field(
        "auto", description="How F1 averages over classes (auto: binary for 2 classes, else macro)."
    )


class TokenClassificationConfig(NLPTaskConfig):
    """Tag every word (NER, POS); scored per entity with seqeval."""

    entity_metrics_per_type: bool = Field(
        False, description="Also log precision, recall and F1 for each entity type."
    )


class QuestionAnsweringConfig(NLPTaskConfig):
    """Extractive question answering (SQuAD v1 and v2); scored by exact match and F1."""

    n_best_size: int = Field(20, gt=0, description="Start and end candidates kept per window.")
    max_answer_length: int = Field(30, gt=0, description="Longest answer span in tokens.")
    null_score_diff_threshold: float = Field(
        0.0, description="SQuAD v2: answer 'no answer' when its score beats the best span by this."
    )


class LanguageModelingConfig(NLPTaskConfig):
    """Causal language modelling: next-token loss and perplexity; generation via predict."""

    generation: GenerationOptions = Field(
        default_factory=lambda: GenerationOptions(max_new_tokens=40),
        description="Decoding settings for 'ltx predict'.",
    )


class MaskedLanguageModelingConfig(NLPTaskConfig):
    """Masked language modelling (BERT-style): masked-token loss and perplexity."""

    mlm_probability: float = Field(
        0.15, gt=0, lt=1, description="Fraction of tokens chosen for prediction."
    )
    mask_replace_prob: float = Field(
        0.8, ge=0, le=1, description="Of the chosen tokens, the fraction replaced by [MASK]."
    )
    random_replace_prob: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Of the chosen tokens, the fraction replaced by a random token.",
    )
    top_k: int = Field(5, gt=0, description="'ltx predict': candidates shown per mask.")

    @field_validator("random_replace_prob")
    @classmethod
    def _probs(cls, v: float, info: ValidationInfo) -> float:
        masked = info.data.get("mask_replace_prob")
        if masked is not None and masked + v > 1:
            raise ValueError("mask_replace_prob + random_replace_prob must be at most 1")
        return v


class MultipleChoiceConfig(NLPTaskConfig):
    """Pick the right ending among several (SWAG, RACE); scored by accuracy."""


class Seq2SeqConfig(NLPTaskConfig):
    """Sequence-to-sequence generation, evaluated on generated text."""

    generation: GenerationOptions = Field(
        default_factory=GenerationOptions,
        description="Decoding settings for validation, test and 'ltx predict'.",
    )
    generate_during_validation: bool = Field(
        True,
        description="Generate text at validation (test always does) to score it; false logs "
        "only the loss, which is faster.",
    )
    max_generate_batches: int | None = Field(
        None, gt=0, description="Generate for at most this many batches per evaluation."
    )


class SummarizationConfig(Seq2SeqConfig):
    """Summarise documents; scored by ROUGE-1, ROUGE-2 and ROUGE-L."""


class TranslationConfig(Seq2SeqConfig):
    """Translate sentences; scored by sacreBLEU (and chrF)."""
