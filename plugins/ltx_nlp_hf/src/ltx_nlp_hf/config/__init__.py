"""Config models of every component this plugin registers (pydantic only, torch-free).

``ltx config`` and ``ltx list`` validate these without importing torch or
transformers. The models live in three modules; this one re-exports them so
specs can say ``ltx_nlp_hf.config:TextClassificationConfig``, and a new data source
builds on ``from ltx_nlp_hf.config import TextClassificationSourceConfig`` (the
family's fields without the file fields of ``FileSourceConfig``).
"""

from __future__ import annotations

from ltx_nlp_hf.config.data import (
    FileDataConfig,
    FileSourceConfig,
    LanguageModelingDataConfig,
    LanguageModelingSourceConfig,
    MultipleChoiceDataConfig,
    MultipleChoiceSourceConfig,
    QuestionAnsweringDataConfig,
    QuestionAnsweringSourceConfig,
    SummarizationDataConfig,
    SummarizationSourceConfig,
    TextClassificationDataConfig,
    TextClassificationSourceConfig,
    TokenClassificationDataConfig,
    TokenClassificationSourceConfig,
    TokenisedDataConfig,
    TranslationDataConfig,
    TranslationSourceConfig,
)
from ltx_nlp_hf.config.models import HFBackboneConfig, HFTokenizerConfig, TinyBackboneConfig
from ltx_nlp_hf.config.tasks import (
    GenerationOptions,
    LanguageModelingConfig,
    MaskedLanguageModelingConfig,
    MultipleChoiceConfig,
    NLPTaskConfig,
    QuestionAnsweringConfig,
    Seq2SeqConfig,
    SummarizationConfig,
    TextClassificationConfig,
    TokenClassificationConfig,
    TranslationConfig,
)

__all__ = [
    "FileDataConfig",
    "FileSourceConfig",
    "GenerationOptions",
    "HFBackboneConfig",
    "HFTokenizerConfig",
    "LanguageModelingConfig",
    "LanguageModelingDataConfig",
    "LanguageModelingSourceConfig",
    "MaskedLanguageModelingConfig",
    "MultipleChoiceConfig",
    "MultipleChoiceDataConfig",
    "MultipleChoiceSourceConfig",
    "NLPTaskConfig",
    "QuestionAnsweringConfig",
    "QuestionAnsweringDataConfig",
    "QuestionAnsweringSourceConfig",
    "Seq2SeqConfig",
    "SummarizationConfig",
    "SummarizationDataConfig",
    "SummarizationSourceConfig",
    "TextClassificationConfig",
    "TextClassificationDataConfig",
    "TextClassificationSourceConfig",
    "TinyBackboneConfig",
    "TokenClassificationConfig",
    "TokenClassificationDataConfig",
    "TokenClassificationSourceConfig",
    "TokenisedDataConfig",
    "TranslationConfig",
    "TranslationDataConfig",
    "TranslationSourceConfig",
]
