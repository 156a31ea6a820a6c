"""What this plugin's datasets hand to the model, and what its tasks ask of a backbone.

Each task family's data module returns one of the :class:`~ltx_core.handoff.HandOff`
models below from ``handoff()``; each task declares the same model (``handoff: ...``)
and the backbone factories declare :class:`TokenizedData`, the part every family
shares. The core checks the dataset's hand-off against each declaration before it
builds anything, saves it in every checkpoint and compares it with the data a
checkpoint meets later (other labels, or the same labels in another order, are
refused).

A new dataset for one of these tasks returns the task's model; a new task reading one
of these datasets declares it. Pydantic only, torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from ltx_core.handoff import HandOff

__all__ = [
    "HeadRequest",
    "LabelledData",
    "LanguageModelingData",
    "MultipleChoiceData",
    "QuestionAnsweringData",
    "Seq2SeqData",
    "TextClassificationData",
    "TokenClassificationData",
    "TokenizedData",
]

ProblemType = Literal["single_label_classification", "multi_label_classification", "regression"]


@dataclass(frozen=True)
class HeadRequest:
    """What a task asks of any backbone: the head its model must have.

    Returned by the task's ``backbone_request(config)``; the backbone factory receives
    it as ``request``. ``head`` is a key of :data:`ltx_nlp_hf.backbones.HEADS`.
    """

    head: str


class TokenizedData(HandOff):
    """What every dataset of this plugin hands over: the tokenizer's vocabulary and
    special tokens, and the longest sequence it tokenised to.

    The backbone factories read this part: the embeddings are sized for the vocabulary
    (added special tokens included) and the model pads with ``pad_token_id``.
    """

    vocab_size: int = Field(description="Tokens the tokenizer can produce, added ones included.")
    pad_token_id: int | None = Field(description="The padding token's id.")
    eos_token_id: int | None = Field(
        None, description="End of text (a BERT tokenizer's [SEP] stands in)."
    )
    bos_token_id: int | None = Field(
        None, description="Start of text (a BERT tokenizer's [CLS] stands in)."
    )
    mask_token_id: int | None = Field(None, description="The mask token's id, if it has one.")
    max_length: int = Field(description="Sequences were truncated to this many tokens.")


class LabelledData(TokenizedData):
    """A dataset with a label vocabulary: what a classification head is sized and named by.

    ``label_names[i]`` is the name of class id ``i`` (``id2label`` says the same as a
    mapping, as ``transformers`` configs keep it).
    """

    num_labels: int = Field(description="Classes (1 for a regression score).")
    id2label: dict[int, str] = Field(description="Class id -> class name.")
    label_names: list[str] = Field(description="Class names in the order of their ids.")
    label_kind: Literal["int", "str", "float"] = Field(
        description="What the raw labels were: class ids, class names, or numbers (regression)."
    )


class TextClassificationData(LabelledData):
    """The hand-off of text classification data (``TextClassificationDataModule``)."""

    problem_type: ProblemType = Field(description="Single-label, multi-label or regression.")
    text_pair: bool = Field(description="Whether each example is a pair of texts.")


class TokenClassificationData(LabelledData):
    """The hand-off of token classification data (``TokenClassificationDataModule``):
    the tag set, in the order of the tag ids."""


class QuestionAnsweringData(TokenizedData):
    """The hand-off of extractive QA data (``QuestionAnsweringDataModule``)."""

    doc_stride: int = Field(description="Tokens shared by consecutive windows of a context.")
    version_2_with_negative: bool = Field(
        description="Whether some questions have no answer (SQuAD v2)."
    )


class LanguageModelingData(TokenizedData):
    """The hand-off of raw-text data (``LanguageModelingDataModule``), read by the causal
    and the masked language-modelling task."""

    block_size: int = Field(description="Tokens per training block.")
    special_token_ids: list[int] = Field(
        description="Ids that carry no text (never masked by the masked task)."
    )


class MultipleChoiceData(TokenizedData):
    """The hand-off of multiple-choice data (``MultipleChoiceDataModule``)."""

    num_choices: int = Field(description="Candidate endings per example.")


class Seq2SeqData(TokenizedData):
    """The hand-off of summarisation and translation data (``SummarizationDataModule``,
    ``TranslationDataModule``)."""

    source_prefix: str = Field(description="Text put before every source (T5's task prefix).")
    max_target_length: int = Field(description="Targets were truncated to this many tokens.")
