"""Config models (pydantic only, no torch): every field typed, described and bounded."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ltx_core.config.models import DataConfig, LtxConfig, TaskConfig
from ltx_core.handoff import HandOff


class SumDataConfig(DataConfig):
    """Random sequences; the label is which of num_classes equal bins their sum falls in."""

    vocab_size: int = Field(10, ge=2, description="Distinct token values.")
    seq_len: int = Field(8, ge=1, description="Tokens per sequence.")
    num_classes: int = Field(2, ge=2, description="Classes (bins of the sum).")
    samples: int = Field(2000, ge=50, description="Sequences in all splits together.")


class SumSequences(HandOff):
    """The hand-off: what the dataset tells the model. The backbone and the task declare
    they read it, and the core checks it before building either."""

    vocab_size: int = Field(description="Distinct token values.")
    seq_len: int = Field(description="Tokens per sequence.")
    num_classes: int = Field(description="Classes.")


class EncoderConfig(LtxConfig):
    """The transformer encoder backbone."""

    d_model: int = Field(32, ge=8, description="Width of the token representations.")
    n_head: int = Field(4, ge=1, description="Attention heads (must divide d_model).")
    n_layer: int = Field(2, ge=1, description="Encoder layers.")

    @model_validator(mode="after")
    def _heads_divide_width(self) -> EncoderConfig:
        # Here rather than in the model: a bad pair is a config mistake, reported as one.
        if self.d_model % self.n_head:
            raise ValueError(f"n_head ({self.n_head}) must divide d_model ({self.d_model}).")
        return self


class SumTaskConfig(TaskConfig):
    """The classification task."""

    label_smoothing: float = Field(0.0, ge=0, lt=1, description="Label smoothing.")


class SumPredictOptions(BaseModel):
    """``ltx predict --set key=value`` and ``ltx serve``'s ``options``: validated here, so a
    typo or a wrong type is one sentence before the model runs."""

    model_config = ConfigDict(extra="forbid")

    scores: bool = Field(False, description="Also return the probability of every class.")
