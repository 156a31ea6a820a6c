"""The ``ltx`` entry point of ltx-nlp-hf: registers its tasks, datasets, backbones and
tokenizer as lazy specs.

Torch-free and transformers-free on purpose: ``ltx list`` and ``ltx --help`` import
this module and nothing heavier. Targets and config models are ``"module:attr"``
strings, loaded only when a component is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ltx_core.registry.hookspecs import hookimpl

__all__ = [
    "BACKBONES",
    "DATASETS",
    "TASKS",
    "BackboneRecord",
    "DataFamily",
    "DatasetRecord",
    "TaskRecord",
    "packaged_preset",
    "register_backbones",
    "register_datasets",
    "register_tasks",
    "register_tokenizers",
]

PKG = "ltx_nlp_hf"
SAMPLES = Path(__file__).resolve().parent / "sample_data"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"

ENCODER_TASKS = (
    "text-classification",
    "token-classification",
    "question-answering",
    "masked-language-modeling",
    "multiple-choice",
)
LM_TASKS = ("language-modeling", "masked-language-modeling")
SEQ2SEQ_TASKS = ("summarization", "translation")


def _sample(*parts: str) -> str:
    return str(SAMPLES.joinpath(*parts))


def _smoke(
    dataset: str, backbone: str, task: dict[str, Any] | None = None, **dataset_options: Any
) -> dict[str, Any]:
    """A tiny CPU run: a packaged sample, a random tiny backbone, one two-batch epoch."""
    out: dict[str, Any] = {
        "dataset": {"name": dataset, "batch_size": 4, **dataset_options},
        "backbone": {"name": backbone},
        "optimizer": {"lr": 1e-3},
        "trainer": {
            "accelerator": "cpu",
            "devices": 1,
            "max_epochs": 1,
            "limit_train_batches": 2,
            "limit_val_batches": 2,
            "limit_test_batches": 2,
            "num_sanity_val_steps": 0,
            "log_every_n_steps": 1,
            "enable_progress_bar": False,
            "tensorboard": False,
        },
    }
    if task:
        out["task"] = task
    return out


@dataclass(frozen=True)
class TaskRecord:
    """One task: its LightningModule and config model (under ``ltx_nlp_hf.tasks`` / ``.config``)."""

    name: str
    module: str  # "module:Class" inside ltx_nlp_hf.tasks
    config: str  # a model exported by ltx_nlp_hf.config
    summary: str
    default_dataset: str
    default_backbone: str
    examples: tuple[str, ...]
    smoke: dict[str, Any]
    task_defaults: dict[str, Any] = field(default_factory=dict)
    #: Its typed prediction options: a model in ltx_nlp_hf.config.predict.
    predict_options: str = ""


@dataclass(frozen=True)
class DataFamily:
    """A data module and its config model, and the tasks every dataset of the family fits."""

    module: str  # "module:Class" inside ltx_nlp_hf.data
    config: str  # a model exported by ltx_nlp_hf.config
    fits: tuple[str, ...]


@dataclass(frozen=True)
class DatasetRecord:
    """One named dataset: a family and the presets layered over its config model's defaults.

    ``packaged``: the presets name files inside this package; they, and the columns and
    label names preset with them, apply only as a set (see ``FileSourceConfig``).
    """

    name: str
    family: DataFamily
    summary: str
    defaults: dict[str, Any] = field(default_factory=dict)
    packaged: bool = False


@dataclass(frozen=True)
class BackboneRecord:
    """One backbone: a factory in ``ltx_nlp_hf.backbones`` and its presets."""

    name: str
    factory: str
    config: str
    summary: str
    fits: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)


# Generating 64 tokens from a random model only measures patience.
_SHORT_GENERATION = {"generation": {"max_new_tokens": 8}}


FINE_TUNE = {"optimizer": {"lr": 5e-5}, "scheduler": {"warmup_fraction": 0.1}}

TASKS: list[TaskRecord] = [
    TaskRecord(
        name="text-classification",
        predict_options="TextClassificationPredictOptions",
        examples=("a gripping, beautifully acted film", "a dull and lifeless mess"),
        module="text_classification:TextClassificationTask",
        config="TextClassificationConfig",
        summary="Classify texts or text pairs (single/multi-label) or score them (regression).",
        default_dataset="sst2-sample",
        default_backbone="minilm",
        task_defaults={
            "optimizer": {"lr": 1e-4},
            "scheduler": {"warmup_fraction": 0.1},
            "trainer": {"max_epochs": 1},
            "dataset": {"batch_size": 32, "max_length": 64, "group_by_length": True},
        },
        smoke=_smoke(
            "sst2-sample",
            "tiny-bert",
            limit_train_samples=32,
            limit_val_samples=16,
            limit_test_samples=16,
        ),
    ),
    TaskRecord(
        name="token-classification",
        predict_options="TokenClassificationPredictOptions",
        examples=("President Bill Clinton visited Chicago on Monday .",),
        module="token_classification:TokenClassificationTask",
        config="TokenClassificationConfig",
        summary="Tag every word (NER, POS); entity-level precision, recall and F1 (seqeval).",
        default_dataset="conll2003",
        default_backbone="minilm",
        task_defaults=FINE_TUNE,
        smoke=_smoke("conll-sample", "tiny-bert"),
    ),
    TaskRecord(
        name="question-answering",
        predict_options="QuestionAnsweringPredictOptions",
        examples=(
            '{"question": "Where is Normandy?", "context": "Normandy is a region in France."}',
        ),
        module="question_answering:QuestionAnsweringTask",
        config="QuestionAnsweringConfig",
        summary="Extractive QA (SQuAD v1/v2) with long contexts in windows; EM and F1.",
        default_dataset="squad",
        default_backbone="minilm",
        task_defaults=FINE_TUNE,
        smoke=_smoke("squad-sample", "tiny-bert", max_length=128, doc_stride=32),
    ),
    TaskRecord(
        name="language-modeling",
        predict_options="GenerationPredictOptions",
        examples=("The history of anarchism",),
        module="language_modeling:LanguageModelingTask",
        config="LanguageModelingConfig",
        summary="Causal language modelling on blocks of text; loss, perplexity, generation.",
        default_dataset="wikitext-2",
        default_backbone="gpt2-small",
        task_defaults=FINE_TUNE,
        smoke=_smoke("wiki-sample", "tiny-gpt2", max_length=64),
    ),
    TaskRecord(
        name="masked-language-modeling",
        predict_options="MaskedLanguageModelingPredictOptions",
        examples=("Paris is the [MASK] of France.",),
        module="masked_language_modeling:MaskedLanguageModelingTask",
        config="MaskedLanguageModelingConfig",
        summary="Masked language modelling (BERT-style); loss and perplexity.",
        default_dataset="wikitext-2",
        default_backbone="minilm",
        task_defaults=FINE_TUNE,
        smoke=_smoke("wiki-sample", "tiny-bert", max_length=64),
    ),
    TaskRecord(
        name="multiple-choice",
        predict_options="MultipleChoicePredictOptions",
        examples=(
            '{"context": "A drum line passes by walking down the street.", '
            '"endings": ["the band plays on.", "a cat sleeps on the moon."]}',
        ),
        module="multiple_choice:MultipleChoiceTask",
        config="MultipleChoiceConfig",
        summary="Pick the right ending among several (SWAG, RACE); accuracy.",
        default_dataset="swag",
        default_backbone="minilm",
        task_defaults=FINE_TUNE,
        smoke=_smoke("swag-sample", "tiny-bert"),
    ),
    TaskRecord(
        name="summarization",
        predict_options="GenerationPredictOptions",
        examples=(
            "The warning begins at 22:00 GMT on Saturday and ends at 10:00 on Sunday. "
            "The ice could lead to difficult driving conditions on untreated roads.",
        ),
        module="seq2seq:SummarizationTask",
        config="SummarizationConfig",
        summary="Summarise documents with a seq2seq model; ROUGE-1/2/L.",
        default_dataset="xsum",
        default_backbone="t5-small",
        task_defaults={"optimizer": {"lr": 3e-4}, "scheduler": {"warmup_fraction": 0.05}},
        smoke=_smoke(
            "xsum-sample", "tiny-t5", _SHORT_GENERATION, max_length=128, max_target_length=32
        ),
    ),
    TaskRecord(
        name="translation",
        predict_options="GenerationPredictOptions",
        examples=("Membership of Parliament: see Minutes",),
        module="seq2seq:TranslationTask",
        config="TranslationConfig",
        summary="Translate sentences with a seq2seq model; sacreBLEU and chrF.",
        default_dataset="wmt16-ro-en",
        default_backbone="t5-small",
        task_defaults={"optimizer": {"lr": 3e-4}, "scheduler": {"warmup_fraction": 0.05}},
        smoke=_smoke("wmt16-sample", "tiny-t5", _SHORT_GENERATION, max_target_length=32),
    ),
]

# The seven data-module families; every dataset below is one of them with presets.
TEXT_CLASSIFICATION = DataFamily(
    "text_classification:TextClassificationDataModule",
    "TextClassificationDataConfig",
    fits=("text-classification",),
)
TOKEN_CLASSIFICATION = DataFamily(
    "token_classification:TokenClassificationDataModule",
    "TokenClassificationDataConfig",
    fits=("token-classification",),
)
QUESTION_ANSWERING = DataFamily(
    "question_answering:QuestionAnsweringDataModule",
    "QuestionAnsweringDataConfig",
    fits=("question-answering",),
)
LANGUAGE_MODELING = DataFamily(
    "language_modeling:LanguageModelingDataModule", "LanguageModelingDataConfig", fits=LM_TASKS
)
MULTIPLE_CHOICE = DataFamily(
    "multiple_choice:MultipleChoiceDataModule",
    "MultipleChoiceDataConfig",
    fits=("multiple-choice",),
)
SUMMARIZATION = DataFamily(
    "seq2seq:SummarizationDataModule", "SummarizationDataConfig", fits=("summarization",)
)
TRANSLATION = DataFamily(
    "seq2seq:TranslationDataModule", "TranslationDataConfig", fits=("translation",)
)
DATASETS: list[DatasetRecord] = [
    # Any local files, in the schema named by the column options.
    DatasetRecord(
        "text-classification-files",
        TEXT_CLASSIFICATION,
        summary="Your files (csv/tsv/json/jsonl/parquet): text, optional text pair, label.",
    ),
    DatasetRecord(
        "token-classification-files",
        TOKEN_CLASSIFICATION,
        summary="Your files (json/jsonl/parquet or CoNLL 'token TAG' text): words and tags.",
    ),
    DatasetRecord(
        "question-answering-files",
        QUESTION_ANSWERING,
        summary="Your files in the SQuAD schema (flat records or the official nested JSON).",
    ),
    DatasetRecord(
        "language-modeling-files",
        LANGUAGE_MODELING,
        summary="Your text files (one example per line) or a text column of any format.",
    ),
    DatasetRecord(
        "multiple-choice-files",
        MULTIPLE_CHOICE,
        summary="Your files in the SWAG or RACE schema.",
    ),
    DatasetRecord(
        "summarization-files",
        SUMMARIZATION,
        summary="Your files: document and summary columns.",
    ),
    DatasetRecord(
        "translation-files",
        TRANSLATION,
        summary="Your files: a {lang: text} translation column or source and target columns.",
    ),
    # Hub datasets (need the network or a local HF datasets cache).
    DatasetRecord(
        "sst2",
        TEXT_CLASSIFICATION,
        summary="GLUE SST-2 sentiment (hub; or set train_file etc. to local files, same schema).",
        defaults={
            "hub_path": "nyu-mll/glue",
            "hub_name": "sst2",
            "text_column": "sentence",
            "label_names": ["negative", "positive"],
        },
    ),
    DatasetRecord(
        "mrpc",
        TEXT_CLASSIFICATION,
        summary="GLUE MRPC paraphrase pairs (hub).",
        defaults={
            "hub_path": "nyu-mll/glue",
            "hub_name": "mrpc",
            "text_column": "sentence1",
            "text_pair_column": "sentence2",
            "label_names": ["not_equivalent", "equivalent"],
        },
    ),
    DatasetRecord(
        "emotion",
        TEXT_CLASSIFICATION,
        summary="Six-class emotion of tweets (hub).",
        defaults={"hub_path": "dair-ai/emotion", "text_column": "text"},
    ),
    DatasetRecord(
        "conll2003",
        TOKEN_CLASSIFICATION,
        summary="CoNLL-2003 NER (hub).",
        defaults={"hub_path": "eriktks/conll2003"},
    ),
    DatasetRecord(
        "squad",
        QUESTION_ANSWERING,
        summary="SQuAD v1.1 (hub).",
        defaults={"hub_path": "rajpurkar/squad"},
    ),
    DatasetRecord(
        "squad_v2",
        QUESTION_ANSWERING,
        summary="SQuAD v2.0, with unanswerable questions (hub).",
        defaults={"hub_path": "rajpurkar/squad_v2", "version_2_with_negative": True},
    ),
    DatasetRecord(
        "swag",
        MULTIPLE_CHOICE,
        summary="SWAG (hub).",
        defaults={"hub_path": "allenai/swag", "hub_name": "regular"},
    ),
    DatasetRecord(
        "race",
        MULTIPLE_CHOICE,
        summary="RACE reading comprehension (hub).",
        defaults={
            "hub_path": "ehovy/race",
            "hub_name": "all",
            "context_column": "article",
            "question_column": "question",
            "options_column": "options",
            "ending_columns": None,
            "label_column": "answer",
            "max_length": 512,
        },
    ),
    DatasetRecord(
        "xsum",
        SUMMARIZATION,
        summary="XSum one-sentence news summaries (hub).",
        defaults={"hub_path": "EdinburghNLP/xsum", "source_prefix": "summarize: "},
    ),
    DatasetRecord(
        "cnn_dailymail",
        SUMMARIZATION,
        summary="CNN/DailyMail news highlights (hub).",
        defaults={
            "hub_path": "abisee/cnn_dailymail",
            "hub_name": "3.0.0",
            "text_column": "article",
            "summary_column": "highlights",
            "source_prefix": "summarize: ",
            "max_target_length": 128,
        },
    ),
    DatasetRecord(
        "wmt16-ro-en",
        TRANSLATION,
        summary="WMT16 English-Romanian (hub).",
        defaults={
            "hub_path": "wmt/wmt16",
            "hub_name": "ro-en",
            "source_lang": "en",
            "target_lang": "ro",
            "source_prefix": "translate English to Romanian: ",
        },
    ),
    DatasetRecord(
        "wikitext-2",
        LANGUAGE_MODELING,
        summary="WikiText-2 raw (hub).",
        defaults={"hub_path": "Salesforce/wikitext", "hub_name": "wikitext-2-raw-v1"},
    ),
    # Small real samples that ship in this package: offline smoke runs and examples.
    DatasetRecord(
        "sst2-sample",
        TEXT_CLASSIFICATION,
        summary="Packaged SST-2 subset: 20,000 training and 500 dev phrases, and the 872 GLUE "
        "validation sentences as test.",
        defaults={
            "train_file": _sample("sst2", "train.tsv"),
            "validation_file": _sample("sst2", "dev.tsv"),
            "test_file": _sample("sst2", "test.tsv"),
            "text_column": "sentence",
            "label_names": ["negative", "positive"],
        },
        packaged=True,
    ),
    DatasetRecord(
        "mrpc-sample",
        TEXT_CLASSIFICATION,
        summary="Packaged 6-pair MRPC sample (smoke runs only).",
        defaults={
            "train_file": _sample("mrpc", "train.tsv"),
            "validation_file": _sample("mrpc", "dev.tsv"),
            "test_file": _sample("mrpc", "dev.tsv"),
            "text_column": "#1 String",
            "text_pair_column": "#2 String",
            "label_column": "Quality",
            "label_names": ["not_equivalent", "equivalent"],
        },
        packaged=True,
    ),
    DatasetRecord(
        "conll-sample",
        TOKEN_CLASSIFICATION,
        summary="Packaged 10-sentence CoNLL NER sample (smoke runs only).",
        defaults={
            "train_file": _sample("conll", "sample.json"),
            "test_file": _sample("conll", "sample.json"),
            "tokens_column": "words",
            "tags_column": "ner",
        },
        packaged=True,
    ),
    DatasetRecord(
        "squad-sample",
        QUESTION_ANSWERING,
        summary="Packaged 14-question SQuAD sample (smoke runs only).",
        defaults={
            "train_file": _sample("squad", "sample.json"),
            "test_file": _sample("squad", "sample.json"),
        },
        packaged=True,
    ),
    DatasetRecord(
        "swag-sample",
        MULTIPLE_CHOICE,
        summary="Packaged 10-example SWAG sample (smoke runs only).",
        defaults={
            "train_file": _sample("swag", "sample.json"),
            "test_file": _sample("swag", "sample.json"),
            "file_format": "jsonl",
        },
        packaged=True,
    ),
    DatasetRecord(
        "xsum-sample",
        SUMMARIZATION,
        summary="Packaged 10-article XSum sample (smoke runs only).",
        defaults={
            "train_file": _sample("xsum", "sample.json"),
            "test_file": _sample("xsum", "sample.json"),
            "file_format": "jsonl",
            "source_prefix": "summarize: ",
        },
        packaged=True,
    ),
    DatasetRecord(
        "wmt16-sample",
        TRANSLATION,
        summary="Packaged 10-pair WMT16 en-ro sample (smoke runs only).",
        defaults={
            "train_file": _sample("wmt16", "sample.json"),
            "test_file": _sample("wmt16", "sample.json"),
            "file_format": "jsonl",
            "source_prefix": "translate English to Romanian: ",
        },
        packaged=True,
    ),
    DatasetRecord(
        "wiki-sample",
        LANGUAGE_MODELING,
        summary="Packaged raw Wikipedia text (80 KB; smoke runs only).",
        defaults={
            "train_file": _sample("wiki_text", "wiki_00"),
            "test_file": _sample("wiki_text", "wiki_00"),
            "file_format": "text",
        },
        packaged=True,
    ),
]


def _pretrained(name: str, model: str, summary: str, fits: tuple[str, ...]) -> BackboneRecord:
    """A Hugging Face model by hub name (or the packaged MiniLM)."""
    return BackboneRecord(
        name,
        factory="build_hf_backbone",
        config="HFBackboneConfig",
        summary=summary,
        fits=fits,
        defaults={"pretrained_model_name_or_path": model},
    )


def _tiny(name: str, architecture: str, summary: str, fits: tuple[str, ...]) -> BackboneRecord:
    """A tiny random model built from a config (tests and smoke runs)."""
    return BackboneRecord(
        name,
        factory="build_tiny_backbone",
        config="TinyBackboneConfig",
        summary=summary,
        fits=fits,
        defaults={"architecture": architecture},
    )


ENCODER_FITS = (*ENCODER_TASKS, "language-modeling")
DECODER_FITS = ("language-modeling", "text-classification", "token-classification")

BACKBONES: list[BackboneRecord] = [
    BackboneRecord(
        "hf",
        factory="build_hf_backbone",
        config="HFBackboneConfig",
        summary="Any Hugging Face model: set pretrained_model_name_or_path to a hub name "
        "or a folder.",
    ),
    _pretrained(
        "minilm",
        MINILM,
        "all-MiniLM-L6-v2 (22M-parameter BERT), embedded by ltx-nlp-hf[minilm]: works offline.",
        ENCODER_FITS,
    ),
    _pretrained("gpt2-small", "openai-community/gpt2", "GPT-2 small (hub).", DECODER_FITS),
    _pretrained("t5-small", "google-t5/t5-small", "T5-small (hub).", SEQ2SEQ_TASKS),
    _tiny(
        "tiny-bert", "bert", "A 2-layer, 32-wide random BERT (tests and smoke runs).", ENCODER_FITS
    ),
    _tiny(
        "tiny-gpt2", "gpt2", "A 2-layer, 32-wide random GPT-2 (tests and smoke runs).", DECODER_FITS
    ),
    _tiny("tiny-t5", "t5", "A 2+2-layer, 32-wide random T5 (tests and smoke runs).", SEQ2SEQ_TASKS),
]


def packaged_preset(name: object) -> dict[str, Any] | None:
    """The presets of a packaged sample dataset by name, or ``None`` for any other name."""
    for record in DATASETS:
        if record.packaged and record.name == name:
            return record.defaults
    return None


@hookimpl
def register_tasks(register: Any) -> None:
    """Register the eight NLP tasks."""
    for t in TASKS:
        register(
            t.name,
            target=f"{PKG}.tasks.{t.module}",
            config=f"{PKG}.config:{t.config}",
            summary=t.summary,
            default_dataset=t.default_dataset,
            default_backbone=t.default_backbone,
            default_tokenizer="hf-auto",
            task_defaults=t.task_defaults,
            smoke=t.smoke,
            examples=t.examples,
            predict_options=f"{PKG}.config.predict:{t.predict_options}"
            if t.predict_options
            else "",
        )


@hookimpl
def register_datasets(register: Any) -> None:
    """Register the file-based, hub and packaged-sample datasets."""
    for d in DATASETS:
        register(
            d.name,
            target=f"{PKG}.data.{d.family.module}",
            config=f"{PKG}.config:{d.family.config}",
            summary=d.summary,
            defaults=d.defaults,
            fits=d.family.fits,
        )


@hookimpl
def register_backbones(register: Any) -> None:
    """Register the Hugging Face backbones and the tiny random ones."""
    for b in BACKBONES:
        register(
            b.name,
            target=f"{PKG}.backbones:{b.factory}",
            config=f"{PKG}.config:{b.config}",
            summary=b.summary,
            defaults=b.defaults,
            fits=b.fits,
        )


@hookimpl
def register_tokenizers(register: Any) -> None:
    """Register the AutoTokenizer factory."""
    register(
        "hf-auto",
        target=f"{PKG}.tokenizers:build_auto_tokenizer",
        config=f"{PKG}.config:HFTokenizerConfig",
        summary="AutoTokenizer; follows the backbone's model name unless given its own.",
    )
