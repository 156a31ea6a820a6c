"""The datasets: one LightningDataModule per task family, over files or hub datasets."""

from __future__ import annotations

from ltx_nlp_hf.data.base import HFDataModule
from ltx_nlp_hf.data.language_modeling import LanguageModelingDataModule
from ltx_nlp_hf.data.multiple_choice import MultipleChoiceDataModule
from ltx_nlp_hf.data.question_answering import QuestionAnsweringDataModule
from ltx_nlp_hf.data.seq2seq import SummarizationDataModule, TranslationDataModule
from ltx_nlp_hf.data.text_classification import TextClassificationDataModule
from ltx_nlp_hf.data.token_classification import TokenClassificationDataModule

__all__ = [
    "HFDataModule",
    "LanguageModelingDataModule",
    "MultipleChoiceDataModule",
    "QuestionAnsweringDataModule",
    "SummarizationDataModule",
    "TextClassificationDataModule",
    "TokenClassificationDataModule",
    "TranslationDataModule",
]
