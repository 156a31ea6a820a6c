"""Registration only: names and "module:attr" strings, no torch, so `ltx list` stays fast."""

from __future__ import annotations

from ltx_core.hookspecs import hookimpl


@hookimpl
def register_tasks(register):
    register(
        "acme-sums-classify",
        target="ltx_acme_sums.task:SumTask",
        config="ltx_acme_sums.config:SumTaskConfig",
        summary="Classify token sequences by which bin their sum falls in.",
        default_dataset="acme-sums-sequences",
        default_backbone="acme-sums-encoder",
        task_defaults={"optimizer": {"lr": 3e-3}, "trainer": {"max_epochs": 5}},
        smoke={"trainer": {"max_steps": 3, "limit_val_batches": 2, "limit_test_batches": 2}},
        examples=["1 2 3 4 5 6 7 8", "0 0 1 0 2 0 0 1"],
    )


@hookimpl
def register_datasets(register):
    register(
        "acme-sums-sequences",
        target="ltx_acme_sums.data:SumData",
        config="ltx_acme_sums.config:SumDataConfig",
        summary="Random token sequences labelled by the bin of their sum.",
        fits=["acme-sums-classify"],
    )


@hookimpl
def register_backbones(register):
    register(
        "acme-sums-encoder",
        target="ltx_acme_sums.model:build_encoder",
        config="ltx_acme_sums.config:EncoderConfig",
        summary="A small transformer encoder with mean pooling.",
    )
