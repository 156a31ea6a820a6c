"""Config models of the datasets (pydantic only, torch-free).

Every dataset reads local files (CSV, TSV, JSON, JSON lines, Parquet, plain
text, CoNLL) or, for the named ones, a Hugging Face Hub dataset with the same
schema. The column options say which fields hold what.

Three layers, so a new record source (a database, an API) takes only what it needs:
:class:`TokenisedDataConfig` (tokenisation, splitting, batching, caching), one
``<Family>SourceConfig`` per task family (its columns and labels), and the
:class:`FileSourceConfig` mix-in (files and hub fields). The registered models are
``<Family>DataConfig = <Family>SourceConfig + FileSourceConfig``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ltx_core.config.models import DataConfig
from ltx_nlp_hf.catalogue import packaged_preset

__all__ = [
    "FILE_FIELDS",
    "FileDataConfig",
    "FileSourceConfig",
    "LanguageModelingDataConfig",
    "LanguageModelingSourceConfig",
    "MultipleChoiceDataConfig",
    "MultipleChoiceSourceConfig",
    "QuestionAnsweringDataConfig",
    "QuestionAnsweringSourceConfig",
    "SummarizationDataConfig",
    "SummarizationSourceConfig",
    "TextClassificationDataConfig",
    "TextClassificationSourceConfig",
    "TokenClassificationDataConfig",
    "TokenClassificationSourceConfig",
    "TokenisedDataConfig",
    "TranslationDataConfig",
    "TranslationSourceConfig",
]

FileFormat = Literal["auto", "csv", "tsv", "json", "jsonl", "parquet", "text", "conll"]
#: The fields that say which files hold the rows (a packaged sample presets them as a set).
FILE_FIELDS = ("train_file", "validation_file", "test_file", "file_format", "json_field")
#: Field names that describe the rows' schema; a sample's presets of these go with its files.
SCHEMA_SUFFIXES = ("_column", "_columns", "label_names")
ProblemType = Literal[
    "auto", "single_label_classification", "multi_label_classification", "regression"
]


class FileSourceConfig(DataConfig):
    """Where rows come from when they come from files or the Hub: the files mix-in.

    A packaged sample (``sst2-sample``, ...) presets its files, columns and labels as one
    set: naming any file of your own drops every packaged file, column and label name
    that was not set to something else, so your files are your data only.
    """

    train_file: str | None = Field(
        None, description="Training data file (csv, tsv, json, jsonl, parquet, txt, conll)."
    )
    validation_file: str | None = Field(
        None,
        description="Validation data file (default: validation_split of the training data, "
        "split off with the run's seed).",
    )
    test_file: str | None = Field(None, description="Test data file (optional).")
    file_format: FileFormat = Field(
        "auto", description="File format (auto: from the file extension)."
    )
    json_field: str | None = Field(
        None,
        description="Key of a JSON file's top-level object that holds the records "
        "(auto: 'data' when the file is an object with such a list).",
    )
    hub_path: str | None = Field(
        None,
        description="Hugging Face Hub dataset used when no train_file is given "
        "(e.g. 'nyu-mll/glue'); needs the network or a local HF datasets cache.",
    )
    hub_name: str | None = Field(None, description="Hub dataset configuration (e.g. 'sst2').")
    hub_validation_split: str = Field(
        "validation", description="Name of the hub dataset's validation split."
    )

    @model_validator(mode="before")
    @classmethod
    def _packaged_files_as_a_set(cls, data: Any) -> Any:
        # Spec presets are merged into the input before validation, so a packaged value
        # is recognised by being the preset's value while another file is not.
        if not isinstance(data, dict):
            return data
        preset = packaged_preset(data.get("name"))
        if not preset:
            return data
        # Own data: a file the preset does not name, or one other than the preset's. A saved
        # config (config.yaml, a checkpoint) repeats the preset's files and every default.
        own = any(
            data.get(f) != preset.get(f)
            for f in FILE_FIELDS
            if data.get(f) is not None and (f in preset or f.endswith("_file"))
        )
        if not own:
            return data
        describes_data = {
            f for f in cls.model_fields if f in FILE_FIELDS or f.endswith(SCHEMA_SUFFIXES)
        }
        return {
            k: v
            for k, v in data.items()
            if not (k in describes_data and k in preset and v == preset[k])
        }


class TokenisedDataConfig(DataConfig):
    """Tokenisation, splitting, batching and caching settings every dataset here shares."""

    max_length: int = Field(128, gt=0, description="Longest tokenised input; longer is cut.")
    limit_train_samples: int | None = Field(
        None, gt=0, description="Use only the first N training examples."
    )
    limit_val_samples: int | None = Field(
        None, gt=0, description="Use only the first N validation examples."
    )
    limit_test_samples: int | None = Field(
        None, gt=0, description="Use only the first N test examples."
    )
    validation_split: float = Field(
        0.1, gt=0, lt=1, description="Fraction of train held out when there is no validation file."
    )
    padding: Literal["longest", "max_length"] = Field(
        "longest",
        description="longest: pad each batch to its longest input (dynamic padding); "
        "max_length: pad every batch to max_length.",
    )
    pad_to_multiple_of: int | None = Field(
        None, gt=0, description="Round padded lengths up to a multiple of this (tensor cores)."
    )
    group_by_length: bool = Field(
        False,
        description="Batch training examples of similar length together (shuffled in chunks "
        "of 50 batches), so dynamic padding pads less; as Trainer's group_by_length.",
    )
    cache: bool = Field(
        True,
        description="Keep tokenised datasets on disk, keyed by the data files' contents, the "
        "tokenizer and these settings, so a second identical run skips tokenisation.",
    )
    cache_dir: str | None = Field(
        None,
        description="Where the tokenised cache lives (default: $LTX_CACHE_DIR or ~/.cache/ltx).",
    )


class FileDataConfig(TokenisedDataConfig, FileSourceConfig):
    """Files or a hub dataset, tokenised: the base of this plugin's file-and-hub datasets."""


class TextClassificationSourceConfig(TokenisedDataConfig):
    """Texts or text pairs with a label: a class (int or string), several classes, or a number.

    No file fields: the base of a record source's config (see ``docs/extending-a-task.md``).
    """

    text_column: str | None = Field(
        None,
        description="Column holding the text (default: inferred as Hugging Face's run_glue "
        "does: sentence1 and sentence2 if present, else the one or two columns besides the "
        "label).",
    )
    text_pair_column: str | None = Field(
        None, description="Column holding the second text of a pair (e.g. MRPC, MNLI)."
    )
    label_column: str | None = Field(
        None, description="Column holding the label (default: 'label', else 'labels')."
    )
    label_names: list[str] | None = Field(
        None,
        description="Class names: for integer labels, the name of 0, 1, ...; for string labels, "
        "the order of the classes (default: sorted).",
    )
    problem_type: ProblemType = Field(
        "auto",
        description="auto: regression for float labels, multi-label for lists (or with "
        "label_separator), else single-label.",
    )
    label_separator: str | None = Field(
        None, description="Split string labels on this to get several labels per text."
    )


class TokenClassificationSourceConfig(TokenisedDataConfig):
    """Words with one tag each (NER, POS); a tag goes on the first sub-token of its word.

    No file fields: the base of a record source's config (see ``docs/extending-a-task.md``).
    """

    tokens_column: str = Field("tokens", description="Column holding the list of words.")
    tags_column: str = Field("ner_tags", description="Column holding the list of tags.")
    label_names: list[str] | None = Field(
        None, description="Tag names for integer tags (the name of 0, 1, ...)."
    )
    label_all_tokens: bool = Field(
        False, description="Tag every sub-token of a word, not only the first."
    )
    conll_tag_index: int = Field(
        -1, description="In CoNLL text files, the whitespace-separated column holding the tag."
    )


class QuestionAnsweringSourceConfig(TokenisedDataConfig):
    """Extractive QA in the SQuAD schema; long contexts are split into overlapping windows.

    No file fields: the base of a record source's config (see ``docs/extending-a-task.md``).
    """

    max_length: int = Field(384, gt=0, description="Tokens per window (question + context).")
    doc_stride: int = Field(128, gt=0, description="Tokens shared by consecutive windows.")
    question_column: str = Field("question", description="Column holding the question.")
    context_column: str = Field("context", description="Column holding the context.")
    answers_column: str = Field(
        "answers", description="Column holding {'text': [...], 'answer_start': [...]}."
    )
    id_column: str = Field("id", description="Column holding the example id.")
    version_2_with_negative: bool | None = Field(
        None,
        description="SQuAD v2: questions may have no answer (auto: when some example has none).",
    )

    @field_validator("doc_stride")
    @classmethod
    def _stride(cls, v: int, info: ValidationInfo) -> int:
        # A field validator (not a model one) so the error names dataset.doc_stride.
        max_length = info.data.get("max_length")
        if max_length is not None and v >= max_length:
            raise ValueError(f"doc_stride ({v}) must be smaller than max_length ({max_length})")
        return v


class LanguageModelingSourceConfig(TokenisedDataConfig):
    """Raw text for causal or masked language modelling, concatenated into blocks.

    No file fields: the base of a record source's config (see ``docs/extending-a-task.md``).
    """

    text_column: str = Field("text", description="Column holding the text (plain text: lines).")
    group_texts: bool = Field(
        True,
        description="Concatenate all texts and cut them into blocks of max_length tokens; "
        "false keeps one (truncated) text per example.",
    )


class MultipleChoiceSourceConfig(TokenisedDataConfig):
    """A context, an optional question and several endings, one correct (SWAG, RACE).

    No file fields: the base of a record source's config (see ``docs/extending-a-task.md``).
    """

    context_column: str = Field("sent1", description="Column holding the context.")
    question_column: str | None = Field(
        "sent2", description="Column holding the question or the start of each ending."
    )
    ending_columns: list[str] | None = Field(
        ["ending0", "ending1", "ending2", "ending3"],
        description="Columns holding one ending each (SWAG).",
    )
    options_column: str | None = Field(
        None, description="Column holding a list of endings (RACE); replaces ending_columns."
    )
    label_column: str = Field(
        "label", description="Column holding the correct ending: an index or a letter (A, B, ...)."
    )

    @model_validator(mode="after")
    def _endings(self) -> MultipleChoiceSourceConfig:
        if not self.options_column and not self.ending_columns:
            raise ValueError("set ending_columns (one column per ending) or options_column")
        if self.ending_columns is not None and len(self.ending_columns) == 1:
            raise ValueError("ending_columns needs at least two columns to choose between")
        return self


class SummarizationSourceConfig(TokenisedDataConfig):
    """Documents and their summaries.

    No file fields: the base of a record source's config (see ``docs/extending-a-task.md``).
    """

    max_length: int = Field(512, gt=0, description="Longest tokenised document; longer is cut.")
    max_target_length: int = Field(64, gt=0, description="Longest tokenised summary.")
    text_column: str = Field("document", description="Column holding the document.")
    summary_column: str = Field("summary", description="Column holding the summary.")
    source_prefix: str = Field(
        "", description="Text put before every document (T5 expects 'summarize: ')."
    )


class TranslationSourceConfig(TokenisedDataConfig):
    """Sentence pairs, as a {lang: text} column (WMT) or two plain columns.

    No file fields: the base of a record source's config (see ``docs/extending-a-task.md``).
    """

    max_length: int = Field(128, gt=0, description="Longest tokenised source sentence.")
    max_target_length: int = Field(128, gt=0, description="Longest tokenised target sentence.")
    source_lang: str = Field("en", description="Source language key.")
    target_lang: str = Field("ro", description="Target language key.")
    translation_column: str | None = Field(
        "translation", description="Column holding {source_lang: text, target_lang: text}."
    )
    source_column: str | None = Field(
        None, description="Column holding the source text (instead of translation_column)."
    )
    target_column: str | None = Field(
        None, description="Column holding the target text (instead of translation_column)."
    )
    source_prefix: str = Field(
        "",
        description="Text put before every source (T5 expects e.g. "
        "'translate English to Romanian: ').",
    )

    @model_validator(mode="after")
    def _columns(self) -> TranslationSourceConfig:
        if (self.source_column is None) != (self.target_column is None):
            raise ValueError("set both source_column and target_column, or neither")
        if self.source_column is None and not self.translation_column:
            raise ValueError("set translation_column, or source_column and target_column")
        return self


# The registered config models: each family's fields plus the files mix-in.


class TextClassificationDataConfig(TextClassificationSourceConfig, FileSourceConfig):
    """Texts or text pairs with a label: a class (int or string), several classes, or a number."""


class TokenClassificationDataConfig(TokenClassificationSourceConfig, FileSourceConfig):
    """Words with one tag each (NER, POS); a tag goes on the first sub-token of its word."""


class QuestionAnsweringDataConfig(QuestionAnsweringSourceConfig, FileSourceConfig):
    """Extractive QA in the SQuAD schema; long contexts are split into overlapping windows."""


class LanguageModelingDataConfig(LanguageModelingSourceConfig, FileSourceConfig):
    """Raw text for causal or masked language modelling, concatenated into blocks."""

    streaming: bool = Field(
        False,
        description="Read the files (or hub dataset) as a stream while training instead of "
        "whole: tokenised on the fly, shuffled in a buffer, shared out between processes "
        "and loader workers; for data larger than memory. Needs --max-steps.",
    )
    shuffle_buffer: int = Field(
        10_000,
        ge=0,
        description="With streaming: rows in the shuffle buffer (0: in file order).",
    )


class MultipleChoiceDataConfig(MultipleChoiceSourceConfig, FileSourceConfig):
    """A context, an optional question and several endings, one correct (SWAG, RACE)."""


class SummarizationDataConfig(SummarizationSourceConfig, FileSourceConfig):
    """Documents and their summaries."""


class TranslationDataConfig(TranslationSourceConfig, FileSourceConfig):
    """Sentence pairs, as a {lang: text} column (WMT) or two plain columns."""
