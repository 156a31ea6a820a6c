"""Typed prediction options of the NLP tasks (``ltx predict --set key=value``, the
``"options"`` of an ``ltx serve`` request). Pydantic only, torch-free: ``ltx info TASK``
lists them without importing the task.

An option left unset (``None``) takes the value of the checkpoint's task config (e.g.
``task.generation.num_beams``), so a run's own settings stay the default.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "GenerationPredictOptions",
    "MaskedLanguageModelingPredictOptions",
    "MultipleChoicePredictOptions",
    "QuestionAnsweringPredictOptions",
    "TextClassificationPredictOptions",
    "TokenClassificationPredictOptions",
]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextClassificationPredictOptions(_Options):
    """Options of ``text-classification``."""

    return_all_scores: bool = Field(
        False, description="Single-label: also give the probability of every label ('scores')."
    )
    threshold: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Multi-label: a label is predicted when its sigmoid is above this "
        "(default: task.multi_label_threshold).",
    )
    sep: str = Field(
        "|||",
        min_length=1,
        description="Text pairs given as one string: the separator of the two texts.",
    )


class TokenClassificationPredictOptions(_Options):
    """Options of ``token-classification``."""

    return_scores: bool = Field(
        False, description="Give each word's tag probability as a third item: [word, tag, p]."
    )


class QuestionAnsweringPredictOptions(_Options):
    """Options of ``question-answering``."""

    context: str | None = Field(
        None, description="One context for every input; the inputs are then bare questions."
    )
    max_answer_length: int | None = Field(
        None, gt=0, description="Longest answer in tokens (default: task.max_answer_length)."
    )


class GenerationPredictOptions(_Options):
    """Options of the generating tasks (``language-modeling``, ``summarization``,
    ``translation``); unset ones take the checkpoint's ``task.generation``."""

    max_new_tokens: int | None = Field(None, gt=0, description="Tokens to generate at most.")
    num_beams: int | None = Field(None, ge=1, description="Beam width (1: greedy or sampling).")
    do_sample: bool | None = Field(
        None, description="Sample instead of picking the likeliest token."
    )
    temperature: float | None = Field(None, gt=0, description="Sampling temperature.")
    top_k: int | None = Field(None, ge=1, description="Sample among the k likeliest tokens.")
    top_p: float | None = Field(None, gt=0, le=1, description="Nucleus sampling mass.")
    seed: int | None = Field(None, ge=0, description="Seed of the sampling (reproducible draws).")


class MaskedLanguageModelingPredictOptions(_Options):
    """Options of ``masked-language-modeling``."""

    top_k: int | None = Field(
        None, gt=0, description="Candidates shown per mask (default: task.top_k)."
    )


class MultipleChoicePredictOptions(_Options):
    """Options of ``multiple-choice``."""

    endings: str | None = Field(
        None,
        description="Endings shared by every input, separated by '|'; the inputs are then "
        "bare contexts.",
    )
