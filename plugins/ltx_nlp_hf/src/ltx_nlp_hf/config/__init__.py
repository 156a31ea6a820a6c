"""Config models of every component this plugin registers (pydantic only, torch-free).

``ltx config`` and ``ltx list`` validate these without importing torch or
transformers. The models live in three modules; this one re-exports them so
specs can say ``ltx_nlp_hf.config:TextClassificationConfig``.
"""

from __future__ import annotations

from ltx_nlp_hf.config.data import (
    FileDataConfig,
    LanguageModelingDataConfig,
    MultipleChoiceDataConfig,
    QuestionAnsweringDataConfig,
    SummarizationDataConfig,
    TextClassificationDataConfig,
    TokenClassificationDataConfig,
    TranslationDataConfig,
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
    "GenerationOptions",
    "HFBackboneConfig",
    "HFTokenizerConfig",
    "LanguageModelingConfig",
    "LanguageModelingDataConfig",
    "MaskedLanguageModelingConfig",
    "MultipleChoiceConfig",
    "MultipleChoiceDataConfig",
    "NLPTaskConfig",
    "QuestionAnsweringConfig",
    "QuestionAnsweringDataConfig",
    "Seq2SeqConfig",
    "SummarizationConfig",
    "SummarizationDataConfig",
    "TextClassificationConfig",
    "TextClassificationDataConfig",
    "TinyBackboneConfig",
    "TokenClassificationConfig",
    "TokenClassificationDataConfig",
    "TranslationConfig",
    "TranslationDataConfig",
]
