"""Registration only: no torch here, so ``ltx list`` stays fast."""

from __future__ import annotations

from ltx_core.hookspecs import hookimpl


@hookimpl
def register_tasks(register):
    register(
        "toy-classify",
        target="ltx_example_plugin.components:ToyTask",
        config="ltx_example_plugin.config:ToyTaskConfig",
        summary="Classify points into Gaussian blobs.",
        default_dataset="toy-blobs",
        default_backbone="toy-mlp",
        task_defaults={"optimizer": {"lr": 0.01}, "trainer": {"max_epochs": 2}},
        smoke={"trainer": {"max_steps": 2}},
        examples=["1,2,3,4", "-3,0,2.5,1"],
    )


@hookimpl
def register_datasets(register):
    register(
        "toy-blobs",
        target="ltx_example_plugin.components:BlobData",
        config="ltx_example_plugin.config:BlobConfig",
        summary="Points around a few centres, one class each.",
        fits=["toy-classify"],
    )


@hookimpl
def register_backbones(register):
    register(
        "toy-mlp",
        target="ltx_example_plugin.components:build_mlp",
        config="ltx_example_plugin.config:MLPConfig",
        summary="A two-layer perceptron.",
    )
    register(
        "toy-mlp-wide",
        target="ltx_example_plugin.components:build_mlp",
        config="ltx_example_plugin.config:MLPConfig",
        summary="The same, wider (a preset).",
        defaults={"hidden": 64},
    )
