"""Registration only: names and "module:attr" strings, no torch, so `ltx list` stays fast."""

from __future__ import annotations

from ltx_core.registry.hookspecs import hookimpl

#: The ltx plugin API this plugin is written for (ltx-core checks it before loading).
LTX_PLUGIN_API = 1


@hookimpl
def register_tasks(register):
    register(
        "toy-classify",
        target="ltx_toy.task:SumTask",
        config="ltx_toy.config:SumTaskConfig",
        summary="Classify token sequences by which bin their sum falls in.",
        default_dataset="toy-sequences",
        default_backbone="toy-encoder",
        task_defaults={"optimizer": {"lr": 3e-3}, "trainer": {"max_epochs": 5}},
        smoke={"trainer": {"max_steps": 3, "limit_val_batches": 2, "limit_test_batches": 2}},
        examples=["1 2 3 4 5 6 7 8", "0 0 1 0 2 0 0 1"],
        # The task's prediction options, named here too so `ltx info` lists them torch-free.
        predict_options="ltx_toy.config:SumPredictOptions",
    )


@hookimpl
def register_datasets(register):
    register(
        "toy-sequences",
        target="ltx_toy.data:SumData",
        config="ltx_toy.config:SumDataConfig",
        summary="Random token sequences labelled by the bin of their sum.",
        fits=["toy-classify"],
    )


@hookimpl
def register_backbones(register):
    register(
        "toy-encoder",
        target="ltx_toy.model:build_encoder",
        config="ltx_toy.config:EncoderConfig",
        summary="A small transformer encoder with mean pooling.",
    )
    # A preset: the same code and config model with other defaults
    # (--backbone toy-encoder-wide).
    register(
        "toy-encoder-wide",
        target="ltx_toy.model:build_encoder",
        config="ltx_toy.config:EncoderConfig",
        summary="The same encoder, twice as wide.",
        defaults={"d_model": 64},
    )
