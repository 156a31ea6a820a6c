"""``--strategy`` and ``trainer.strategy``: names, class paths with options (FSDP's sharding,
activation checkpointing and state dict), and one sentence where this machine cannot run
the strategy (FSDP and DeepSpeed need CUDA GPUs; DeepSpeed must be installed)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from ltx_core.cli.testing import QUIET
from ltx_core.config.models import ClassSpec
from ltx_core.engine.strategies import build_strategy, check_strategy
from ltx_core.errors import LtxError

FSDP_SPEC = (
    "trainer.strategy={class_path: FSDPStrategy, init_args: {sharding_strategy: SHARD_GRAD_OP, "
    "activation_checkpointing_policy: [torch.nn.TransformerEncoderLayer], state_dict_type: full}}"
)
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only refusal")


@no_cuda
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--strategy", "fsdp"], "The strategy 'fsdp' (FSDP) shards the model across CUDA GPUs"),
        (["--strategy", "deepspeed_stage_2"], "'deepspeed_stage_2' (DeepSpeed) shards"),
        (["--strategy", "deepspeed_stage_3"], "'deepspeed_stage_3' (DeepSpeed) shards"),
        ([FSDP_SPEC], "The strategy 'FSDPStrategy' (FSDP) shards"),
    ],
)
def test_sharded_strategies_on_cpu_are_one_sentence(
    args: list[str], says: str, ltx_cli, example_plugin: None, tmp_path: Path
) -> None:
    result = ltx_cli("train", "toy-classify", "--accelerator", "cpu", "-o", "run", *args)
    assert result.exit_code == 2, result.output
    assert says in result.output and "use --strategy ddp" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_config_takes_a_strategy_with_options(ltx_cli, example_plugin: None) -> None:
    import yaml

    result = ltx_cli("config", "toy-classify", FSDP_SPEC)
    assert result.exit_code == 0, result.output
    strategy = yaml.safe_load(result.output)["trainer"]["strategy"]
    assert strategy == {
        "class_path": "FSDPStrategy",
        "init_args": {
            "sharding_strategy": "SHARD_GRAD_OP",
            "activation_checkpointing_policy": ["torch.nn.TransformerEncoderLayer"],
            "state_dict_type": "full",
        },
    }


def test_fsdp_options_reach_lightnings_strategy() -> None:
    from pytorch_lightning.strategies import FSDPStrategy
    from torch.distributed.fsdp import ShardingStrategy

    spec = ClassSpec(
        class_path="FSDPStrategy",
        init_args={
            "sharding_strategy": "SHARD_GRAD_OP",
            "activation_checkpointing_policy": ["torch.nn.TransformerEncoderLayer"],
            "auto_wrap_policy": "torch.nn.TransformerEncoderLayer",
            "state_dict_type": "full",
            "cpu_offload": True,
        },
    )
    strategy = build_strategy(spec)
    assert isinstance(strategy, FSDPStrategy)
    assert strategy.sharding_strategy == ShardingStrategy.SHARD_GRAD_OP
    assert strategy._state_dict_type == "full"
    assert strategy.cpu_offload.offload_params is True
    # The YAML list of class paths became the set of module classes Lightning wraps.
    policy = strategy._activation_checkpointing_kwargs["auto_wrap_policy"]
    assert policy._module_classes == {torch.nn.TransformerEncoderLayer}
    assert strategy.kwargs["auto_wrap_policy"]._module_classes == {torch.nn.TransformerEncoderLayer}
    assert build_strategy("ddp") == "ddp"


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        (ClassSpec(class_path="NoSuchStrategy"), "cannot import the strategy 'NoSuchStrategy'"),
        (
            ClassSpec(class_path="FSDPStrategy", init_args={"auto_wrap_policy": ["torch.nn.Nope"]}),
            "cannot import the module class of auto_wrap_policy 'torch.nn.Nope'",
        ),
    ],
)
def test_strategy_mistakes_are_one_sentence(spec: ClassSpec, says: str) -> None:
    with pytest.raises(LtxError, match=says):
        build_strategy(spec)


def test_strategy_checks_with_a_gpu() -> None:
    # As on a GPU machine: FSDP passes, DeepSpeed needs its package, sharded state dicts
    # (folders of shards) are refused since ltx test and predict read one file.
    check_strategy("fsdp", cuda=True)
    check_strategy("ddp", cuda=False)
    sharded = ClassSpec(class_path="FSDPStrategy", init_args={"state_dict_type": "sharded"})
    with pytest.raises(LtxError, match="state_dict_type 'sharded'"):
        check_strategy(sharded, cuda=True)
    try:
        import deepspeed  # noqa: F401
    except ImportError:
        with pytest.raises(LtxError, match="pip install deepspeed"):
            check_strategy("deepspeed_stage_3", cuda=True)


@pytest.mark.slow
def test_a_strategy_by_class_path_trains(installed_example: Path, tmp_path: Path, run_ltx) -> None:
    spec = "trainer.strategy={class_path: DDPStrategy, init_args: {find_unused_parameters: false}}"
    result = run_ltx(
        "train", "toy-classify", "--accelerator", "cpu", "--devices", "1", "--max-steps", "3",
        "-o", "run", spec, *QUIET,
        env={"OMP_NUM_THREADS": "1"}, path=[installed_example], cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["strategy"] == "DDPStrategy" and summary["global_step"] == 3
    assert os.path.isfile(summary["checkpoints"]["last"])
