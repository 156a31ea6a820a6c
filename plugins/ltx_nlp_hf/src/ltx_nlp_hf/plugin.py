"""The ``ltx`` entry point of ltx-nlp-hf: registers its tasks, datasets, backbones and
tokenizer as lazy specs.

Torch-free and transformers-free on purpose: ``ltx list`` and ``ltx --help`` import
this module and nothing heavier. Targets and config models are ``"module:attr"``
strings, loaded only when a component is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ltx_core.hookspecs import hookimpl

__all__ = ["register_backbones", "register_datasets", "register_tasks", "register_tokenizers"]

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


# Generating 64 tokens from a random model only measures patience.
_SHORT_GENERATION = {"generation": {"max_new_tokens": 8}}


FINE_TUNE = {"optimizer": {"lr": 5e-5}, "scheduler": {"warmup_fraction": 0.1}}

TASKS: list[dict[str, Any]] = [
    {
        "name": "text-classification",
        "examples": ("a gripping, beautifully acted film", "a dull and lifeless mess"),
        "module": "text_classification:TextClassificationTask",
        "config": "TextClassificationConfig",
        "summary": "Classify texts or text pairs (single/multi-label) or score them (regression).",
        "default_dataset": "sst2-sample",
        "default_backbone": "minilm",
        "task_defaults": {
            "optimizer": {"lr": 1e-4},
            "scheduler": {"warmup_fraction": 0.1},
            "trainer": {"max_epochs": 1},
            "dataset": {"batch_size": 32, "max_length": 64, "group_by_length": True},
        },
        "smoke": _smoke(
            "sst2-sample",
            "tiny-bert",
            limit_train_samples=32,
            limit_val_samples=16,
            limit_test_samples=16,
        ),
    },
    {
        "name": "token-classification",
        "examples": ("President Bill Clinton visited Chicago on Monday .",),
        "module": "token_classification:TokenClassificationTask",
        "config": "TokenClassificationConfig",
        "summary": "Tag every word (NER, POS); entity-level precision, recall and F1 (seqeval).",
        "default_dataset": "conll2003",
        "default_backbone": "minilm",
        "task_defaults": FINE_TUNE,
        "smoke": _smoke("conll-sample", "tiny-bert"),
    },
    {
        "name": "question-answering",
        "examples": (
            '{"question": "Where is Normandy?", "context": "Normandy is a region in France."}',
        ),
        "module": "question_answering:QuestionAnsweringTask",
        "config": "QuestionAnsweringConfig",
        "summary": "Extractive QA (SQuAD v1/v2) with long contexts in windows; EM and F1.",
        "default_dataset": "squad",
        "default_backbone": "minilm",
        "task_defaults": FINE_TUNE,
        "smoke": _smoke("squad-sample", "tiny-bert", max_length=128, doc_stride=32),
    },
    {
        "name": "language-modeling",
        "examples": ("The history of anarchism",),
        "module": "language_modeling:LanguageModelingTask",
        "config": "LanguageModelingConfig",
        "summary": "Causal language modelling on blocks of text; loss, perplexity, generation.",
        "default_dataset": "wikitext-2",
        "default_backbone": "gpt2-small",
        "task_defaults": FINE_TUNE,
        "smoke": _smoke("wiki-sample", "tiny-gpt2", max_length=64),
    },
    {
        "name": "masked-language-modeling",
        "examples": ("Paris is the [MASK] of France.",),
        "module": "masked_language_modeling:MaskedLanguageModelingTask",
        "config": "MaskedLanguageModelingConfig",
        "summary": "Masked language modelling (BERT-style); loss and perplexity.",
        "default_dataset": "wikitext-2",
        "default_backbone": "minilm",
        "task_defaults": FINE_TUNE,
        "smoke": _smoke("wiki-sample", "tiny-bert", max_length=64),
    },
    {
        "name": "multiple-choice",
        "examples": (
            '{"context": "A drum line passes by walking down the street.", '
            '"endings": ["the band plays on.", "a cat sleeps on the moon."]}',
        ),
        "module": "multiple_choice:MultipleChoiceTask",
        "config": "MultipleChoiceConfig",
        "summary": "Pick the right ending among several (SWAG, RACE); accuracy.",
        "default_dataset": "swag",
        "default_backbone": "minilm",
        "task_defaults": FINE_TUNE,
        "smoke": _smoke("swag-sample", "tiny-bert"),
    },
    {
        "name": "summarization",
        "examples": (
            "The warning begins at 22:00 GMT on Saturday and ends at 10:00 on Sunday. "
            "The ice could lead to difficult driving conditions on untreated roads.",
        ),
        "module": "seq2seq:SummarizationTask",
        "config": "SummarizationConfig",
        "summary": "Summarise documents with a seq2seq model; ROUGE-1/2/L.",
        "default_dataset": "xsum",
        "default_backbone": "t5-small",
        "task_defaults": {"optimizer": {"lr": 3e-4}, "scheduler": {"warmup_fraction": 0.05}},
        "smoke": _smoke(
            "xsum-sample", "tiny-t5", _SHORT_GENERATION, max_length=128, max_target_length=32
        ),
    },
    {
        "name": "translation",
        "examples": ("Membership of Parliament: see Minutes",),
        "module": "seq2seq:TranslationTask",
        "config": "TranslationConfig",
        "summary": "Translate sentences with a seq2seq model; sacreBLEU and chrF.",
        "default_dataset": "wmt16-ro-en",
        "default_backbone": "t5-small",
        "task_defaults": {"optimizer": {"lr": 3e-4}, "scheduler": {"warmup_fraction": 0.05}},
        "smoke": _smoke("wmt16-sample", "tiny-t5", _SHORT_GENERATION, max_target_length=32),
    },
]

# name -> (datamodule class, config model, fits, defaults, summary)
_TC = ("text_classification:TextClassificationDataModule", "TextClassificationDataConfig")
_TOK = ("token_classification:TokenClassificationDataModule", "TokenClassificationDataConfig")
_QA = ("question_answering:QuestionAnsweringDataModule", "QuestionAnsweringDataConfig")
_LM = ("language_modeling:LanguageModelingDataModule", "LanguageModelingDataConfig")
_MC = ("multiple_choice:MultipleChoiceDataModule", "MultipleChoiceDataConfig")
_SUM = ("seq2seq:SummarizationDataModule", "SummarizationDataConfig")
_TR = ("seq2seq:TranslationDataModule", "TranslationDataConfig")
_FIT = {
    _TC: ("text-classification",),
    _TOK: ("token-classification",),
    _QA: ("question-answering",),
    _LM: LM_TASKS,
    _MC: ("multiple-choice",),
    _SUM: ("summarization",),
    _TR: ("translation",),
}

DATASETS: list[tuple[str, tuple[str, str], dict[str, Any], str]] = [
    # Any local files, in the schema named by the column options.
    (
        "text-classification-files",
        _TC,
        {},
        "Your files (csv/tsv/json/jsonl/parquet): text, optional text pair, label.",
    ),
    (
        "token-classification-files",
        _TOK,
        {},
        "Your files (json/jsonl/parquet or CoNLL 'token TAG' text): words and tags.",
    ),
    (
        "question-answering-files",
        _QA,
        {},
        "Your files in the SQuAD schema (flat records or the official nested JSON).",
    ),
    (
        "language-modeling-files",
        _LM,
        {},
        "Your text files (one example per line) or a text column of any format.",
    ),
    ("multiple-choice-files", _MC, {}, "Your files in the SWAG or RACE schema."),
    ("summarization-files", _SUM, {}, "Your files: document and summary columns."),
    (
        "translation-files",
        _TR,
        {},
        "Your files: a {lang: text} translation column or source and target columns.",
    ),
    # Hub datasets (need the network or a local HF datasets cache).
    (
        "sst2",
        _TC,
        {
            "hub_path": "nyu-mll/glue",
            "hub_name": "sst2",
            "text_column": "sentence",
            "label_names": ["negative", "positive"],
        },
        "GLUE SST-2 sentiment (hub; or set train_file etc. to local files, same schema).",
    ),
    (
        "mrpc",
        _TC,
        {
            "hub_path": "nyu-mll/glue",
            "hub_name": "mrpc",
            "text_column": "sentence1",
            "text_pair_column": "sentence2",
            "label_names": ["not_equivalent", "equivalent"],
        },
        "GLUE MRPC paraphrase pairs (hub).",
    ),
    (
        "emotion",
        _TC,
        {"hub_path": "dair-ai/emotion", "text_column": "text"},
        "Six-class emotion of tweets (hub).",
    ),
    ("conll2003", _TOK, {"hub_path": "eriktks/conll2003"}, "CoNLL-2003 NER (hub)."),
    ("squad", _QA, {"hub_path": "rajpurkar/squad"}, "SQuAD v1.1 (hub)."),
    (
        "squad_v2",
        _QA,
        {"hub_path": "rajpurkar/squad_v2", "version_2_with_negative": True},
        "SQuAD v2.0, with unanswerable questions (hub).",
    ),
    ("swag", _MC, {"hub_path": "allenai/swag", "hub_name": "regular"}, "SWAG (hub)."),
    (
        "race",
        _MC,
        {
            "hub_path": "ehovy/race",
            "hub_name": "all",
            "context_column": "article",
            "question_column": "question",
            "options_column": "options",
            "ending_columns": None,
            "label_column": "answer",
            "max_length": 512,
        },
        "RACE reading comprehension (hub).",
    ),
    (
        "xsum",
        _SUM,
        {"hub_path": "EdinburghNLP/xsum", "source_prefix": "summarize: "},
        "XSum one-sentence news summaries (hub).",
    ),
    (
        "cnn_dailymail",
        _SUM,
        {
            "hub_path": "abisee/cnn_dailymail",
            "hub_name": "3.0.0",
            "text_column": "article",
            "summary_column": "highlights",
            "source_prefix": "summarize: ",
            "max_target_length": 128,
        },
        "CNN/DailyMail news highlights (hub).",
    ),
    (
        "wmt16-ro-en",
        _TR,
        {
            "hub_path": "wmt/wmt16",
            "hub_name": "ro-en",
            "source_lang": "en",
            "target_lang": "ro",
            "source_prefix": "translate English to Romanian: ",
        },
        "WMT16 English-Romanian (hub).",
    ),
    (
        "wikitext-2",
        _LM,
        {"hub_path": "Salesforce/wikitext", "hub_name": "wikitext-2-raw-v1"},
        "WikiText-2 raw (hub).",
    ),
    # Small real samples that ship in this package: offline smoke runs and examples.
    (
        "sst2-sample",
        _TC,
        {
            "train_file": _sample("sst2", "train.tsv"),
            "validation_file": _sample("sst2", "dev.tsv"),
            "test_file": _sample("sst2", "test.tsv"),
            "text_column": "sentence",
            "label_names": ["negative", "positive"],
        },
        "Packaged SST-2 subset: 20,000 training and 500 dev phrases, and the 872 GLUE "
        "validation sentences as test.",
    ),
    (
        "mrpc-sample",
        _TC,
        {
            "train_file": _sample("mrpc", "train.tsv"),
            "validation_file": _sample("mrpc", "dev.tsv"),
            "test_file": _sample("mrpc", "dev.tsv"),
            "text_column": "#1 String",
            "text_pair_column": "#2 String",
            "label_column": "Quality",
            "label_names": ["not_equivalent", "equivalent"],
        },
        "Packaged 6-pair MRPC sample (smoke runs only).",
    ),
    (
        "conll-sample",
        _TOK,
        {
            "train_file": _sample("conll", "sample.json"),
            "test_file": _sample("conll", "sample.json"),
            "tokens_column": "words",
            "tags_column": "ner",
        },
        "Packaged 10-sentence CoNLL NER sample (smoke runs only).",
    ),
    (
        "squad-sample",
        _QA,
        {
            "train_file": _sample("squad", "sample.json"),
            "test_file": _sample("squad", "sample.json"),
        },
        "Packaged 14-question SQuAD sample (smoke runs only).",
    ),
    (
        "swag-sample",
        _MC,
        {
            "train_file": _sample("swag", "sample.json"),
            "test_file": _sample("swag", "sample.json"),
            "file_format": "jsonl",
        },
        "Packaged 10-example SWAG sample (smoke runs only).",
    ),
    (
        "xsum-sample",
        _SUM,
        {
            "train_file": _sample("xsum", "sample.json"),
            "test_file": _sample("xsum", "sample.json"),
            "file_format": "jsonl",
            "source_prefix": "summarize: ",
        },
        "Packaged 10-article XSum sample (smoke runs only).",
    ),
    (
        "wmt16-sample",
        _TR,
        {
            "train_file": _sample("wmt16", "sample.json"),
            "test_file": _sample("wmt16", "sample.json"),
            "file_format": "jsonl",
            "source_prefix": "translate English to Romanian: ",
        },
        "Packaged 10-pair WMT16 en-ro sample (smoke runs only).",
    ),
    (
        "wiki-sample",
        _LM,
        {
            "train_file": _sample("wiki_text", "wiki_00"),
            "test_file": _sample("wiki_text", "wiki_00"),
            "file_format": "text",
        },
        "Packaged raw Wikipedia text (80 KB; smoke runs only).",
    ),
]

BACKBONES: list[tuple[str, str, str, dict[str, Any], tuple[str, ...], str]] = [
    (
        "hf",
        "build_hf_backbone",
        "HFBackboneConfig",
        {},
        (),
        "Any Hugging Face model: set pretrained_model_name_or_path to a hub name or a folder.",
    ),
    (
        "minilm",
        "build_hf_backbone",
        "HFBackboneConfig",
        {"pretrained_model_name_or_path": MINILM},
        (*ENCODER_TASKS, "language-modeling"),
        "all-MiniLM-L6-v2 (22M-parameter BERT), embedded by ltx-nlp-hf[minilm]: works offline.",
    ),
    (
        "gpt2-small",
        "build_hf_backbone",
        "HFBackboneConfig",
        {"pretrained_model_name_or_path": "openai-community/gpt2"},
        ("language-modeling", "text-classification", "token-classification"),
        "GPT-2 small (hub).",
    ),
    (
        "t5-small",
        "build_hf_backbone",
        "HFBackboneConfig",
        {"pretrained_model_name_or_path": "google-t5/t5-small"},
        SEQ2SEQ_TASKS,
        "T5-small (hub).",
    ),
    (
        "tiny-bert",
        "build_tiny_backbone",
        "TinyBackboneConfig",
        {"architecture": "bert"},
        (*ENCODER_TASKS, "language-modeling"),
        "A 2-layer, 32-wide random BERT (tests and smoke runs).",
    ),
    (
        "tiny-gpt2",
        "build_tiny_backbone",
        "TinyBackboneConfig",
        {"architecture": "gpt2"},
        ("language-modeling", "text-classification", "token-classification"),
        "A 2-layer, 32-wide random GPT-2 (tests and smoke runs).",
    ),
    (
        "tiny-t5",
        "build_tiny_backbone",
        "TinyBackboneConfig",
        {"architecture": "t5"},
        SEQ2SEQ_TASKS,
        "A 2+2-layer, 32-wide random T5 (tests and smoke runs).",
    ),
]


@hookimpl
def register_tasks(register: Any) -> None:
    """Register the eight NLP tasks."""
    for t in TASKS:
        register(
            t["name"],
            target=f"{PKG}.tasks.{t['module']}",
            config=f"{PKG}.config:{t['config']}",
            summary=t["summary"],
            default_dataset=t["default_dataset"],
            default_backbone=t["default_backbone"],
            default_tokenizer="hf-auto",
            task_defaults=t["task_defaults"],
            smoke=t["smoke"],
            examples=t["examples"],
        )


@hookimpl
def register_datasets(register: Any) -> None:
    """Register the file-based, hub and packaged-sample datasets."""
    for name, (target, config), defaults, summary in DATASETS:
        register(
            name,
            target=f"{PKG}.data.{target}",
            config=f"{PKG}.config:{config}",
            summary=summary,
            defaults=defaults,
            fits=_FIT[(target, config)],
        )


@hookimpl
def register_backbones(register: Any) -> None:
    """Register the Hugging Face backbones and the tiny random ones."""
    for name, factory, config, defaults, fits, summary in BACKBONES:
        register(
            name,
            target=f"{PKG}.backbones:{factory}",
            config=f"{PKG}.config:{config}",
            summary=summary,
            defaults=defaults,
            fits=fits,
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
