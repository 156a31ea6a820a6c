"""The core's own config models: optimizer, scheduler, trainer, data loading.

Torch-free. Every model forbids unknown keys and describes every field, so
``ltx config --schema`` gives editors a complete JSON Schema.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

__all__ = [
    "ClassSpec",
    "CompileConfig",
    "DataConfig",
    "LtxConfig",
    "OptimizerConfig",
    "RunConfig",
    "SchedulerConfig",
    "TaskConfig",
    "TrainerConfig",
]


#: Marks a validator's unknown-key error, so the message can name the full key path.
UNKNOWN_KEY = "ltx-unknown-key:"


class LtxConfig(BaseModel):
    """Base of every config model: unknown keys are errors, values are re-checked on set."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())


class TaskConfig(LtxConfig):
    """Base of task config models (tasks subclass it with their own options)."""


class DataConfig(LtxConfig):
    """Loader settings every dataset shares; datasets subclass this."""

    batch_size: int = Field(32, gt=0, description="Samples per batch on each device.")
    eval_batch_size: int | None = Field(
        None, gt=0, description="Samples per batch for validation/test (default: batch_size)."
    )
    num_workers: int = Field(0, ge=0, description="DataLoader worker processes.")
    pin_memory: bool | None = Field(
        None, description="Pin host memory for faster GPU copies (default: when a GPU is used)."
    )
    persistent_workers: bool = Field(
        True, description="Keep workers alive between epochs (only when num_workers > 0)."
    )


class OptimizerConfig(LtxConfig):
    """The optimizer, with weight decay applied only to matrices (not biases or norms)."""

    name: Literal["adamw", "adam", "sgd"] = Field("adamw", description="Optimizer.")
    lr: float = Field(1e-3, gt=0, description="Peak learning rate.")
    weight_decay: float = Field(
        0.01, ge=0, description="Decoupled weight decay for parameters with 2 or more dimensions."
    )
    no_decay: list[str] = Field(
        default_factory=list,
        description="Extra parameter-name substrings that get no weight decay "
        "(biases and norm weights never do).",
    )
    betas: tuple[float, float] = Field((0.9, 0.999), description="Adam betas.")
    eps: float = Field(1e-8, gt=0, description="Adam epsilon.")
    momentum: float = Field(0.9, ge=0, description="SGD momentum.")
    bf16_updates: Literal["master-weights", "stochastic-rounding", "plain"] = Field(
        "master-weights",
        description="Under trainer.precision bf16-true (bf16 weights), how updates reach "
        "the weights: master-weights (the optimizer keeps an fp32 copy of each weight, "
        "steps on it and rounds it back), stochastic-rounding (fp32 step, written back "
        "with unbiased random rounding; no copy), or plain (steps on the bf16 weights: "
        "updates below bf16's resolution are lost). Ignored at other precisions.",
    )


class SchedulerConfig(LtxConfig):
    """Learning-rate schedule, stepped every optimizer step."""

    name: Literal["constant", "linear", "cosine"] = Field(
        "linear", description="Decay after warm-up: none, linear to zero, or cosine."
    )
    warmup_steps: int | None = Field(
        None, ge=0, description="Warm-up length in optimizer steps (overrides warmup_fraction)."
    )
    warmup_fraction: float = Field(
        0.0, ge=0, lt=1, description="Warm-up length as a fraction of all training steps."
    )
    min_lr_ratio: float = Field(
        0.0, ge=0, le=1, description="Final learning rate as a fraction of the peak."
    )


Precision = Literal[
    "64-true",
    "64",
    "32-true",
    "32",
    "16-mixed",
    "16-true",
    "bf16-mixed",
    "bf16-true",
    "transformer-engine",
    "auto",
]


class ClassSpec(LtxConfig):
    """A class to instantiate, in LightningCLI's convention."""

    class_path: str = Field(
        description="A short name of Lightning's own (EarlyStopping, CSVLogger, ...) or an "
        "importable 'package.module.Class'."
    )
    init_args: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments for the class."
    )


class CompileConfig(LtxConfig):
    """``torch.compile`` options for the backbone (``trainer.compile: {mode: ...}``)."""

    mode: Literal["default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"] = (
        Field("default", description="torch.compile mode.")
    )
    fullgraph: bool = Field(False, description="Fail on graph breaks instead of splitting.")
    dynamic: bool | None = Field(
        None, description="Compile for dynamic shapes (None: after a shape changes)."
    )


class TrainerConfig(LtxConfig):
    """What becomes the Lightning Trainer: any argument of the installed
    ``pytorch_lightning.Trainer`` (the common ones are typed here; others are checked
    against its signature), plus ltx's own settings (``ema_decay``, ``tensorboard``,
    ``save_top_k``, ``checkpoint_every_n_steps``, ``checkpoint_every_minutes``,
    ``callbacks``, ``loggers``)."""

    #: Fields that are ltx's, not Lightning Trainer arguments.
    LTX_SETTINGS: ClassVar[tuple[str, ...]] = (
        "ema_decay",
        "tensorboard",
        "save_top_k",
        "checkpoint_every_n_steps",
        "checkpoint_every_minutes",
        "callbacks",
        "loggers",
        "compile",
    )
    # Extra keys are Lightning's own Trainer arguments, checked by _lightning_args.
    model_config = ConfigDict(extra="allow", validate_assignment=True, protected_namespaces=())

    accelerator: Literal["auto", "cpu", "gpu", "cuda", "mps", "tpu"] = Field(
        "auto", description="Hardware to run on; '--gpus N' sets 'gpu'."
    )
    devices: int | str | list[int] = Field(
        "auto", description="Number of devices, a list of device ids, or 'auto'."
    )
    strategy: str | ClassSpec = Field(
        "auto",
        description="Lightning strategy by name (auto, ddp, fsdp, deepspeed_stage_2, ...) or "
        "with its options: {class_path: FSDPStrategy, init_args: {sharding_strategy: "
        "FULL_SHARD, ...}}.",
    )
    num_nodes: int = Field(1, ge=1, description="Machines taking part (torchrun/SLURM).")
    precision: Precision = Field(
        "32-true",
        description="Numerical precision; 'auto': bf16-mixed where the hardware has fast bf16 "
        "(CPU AMX / AVX-512 BF16, CUDA compute capability >= 8), else 32-true, chosen when "
        "the run starts.",
    )
    max_epochs: int | None = Field(
        None, ge=-1, description="Stop after this many epochs (-1: no epoch limit)."
    )
    max_steps: int = Field(-1, ge=-1, description="Stop after this many optimizer steps (-1: off).")
    gradient_clip_val: float | None = Field(None, ge=0, description="Clip gradients to this norm.")
    ema_decay: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Keep an exponential moving average of the weights with this decay (e.g. "
        "0.999); validation, checkpoints and the test use the averaged weights. None: off.",
    )
    accumulate_grad_batches: int = Field(1, ge=1, description="Batches per optimizer step.")
    log_every_n_steps: int = Field(10, ge=1, description="Logging interval in steps.")
    val_check_interval: float | int = Field(
        1.0, gt=0, description="Validate every fraction of an epoch (float) or N batches (int)."
    )
    check_val_every_n_epoch: int | None = Field(
        1, ge=1, description="Validate every N epochs (None: by val_check_interval alone)."
    )
    limit_train_batches: float | int = Field(1.0, ge=0, description="Fraction or count.")
    limit_val_batches: float | int = Field(1.0, ge=0, description="Fraction or count.")
    limit_test_batches: float | int = Field(1.0, ge=0, description="Fraction or count.")
    num_sanity_val_steps: int = Field(2, ge=-1, description="Validation batches before fitting.")
    deterministic: bool = Field(False, description="Use deterministic algorithms.")
    enable_progress_bar: bool = Field(True, description="Show a progress bar.")
    tensorboard: bool = Field(True, description="Also log to TensorBoard when it is installed.")
    save_top_k: int = Field(1, ge=-1, description="Best checkpoints kept by the monitored metric.")
    callbacks: list[ClassSpec] = Field(
        default_factory=list,
        description="Extra callbacks: [{class_path: EarlyStopping, init_args: {monitor: "
        "val_loss, patience: 3}}, ...].",
    )
    loggers: list[ClassSpec] = Field(
        default_factory=list,
        description="Extra loggers besides the CSV logger of metrics.csv: [{class_path: "
        "MLFlowLogger, init_args: {...}}, ...].",
    )
    checkpoint_every_n_steps: int | None = Field(
        None,
        ge=1,
        description="Also rewrite checkpoints/last.ckpt every N optimizer steps (None: at "
        "epoch ends and when training stops only).",
    )
    compile: bool | CompileConfig = Field(
        False,
        description="Compile the backbone with torch.compile: true, or {mode, fullgraph, "
        "dynamic}. Off by default: on CPU the compile time outweighs the gain for ltx's "
        "default runs (docs/performance.md).",
    )
    checkpoint_every_minutes: float | None = Field(
        30.0,
        gt=0,
        description="Also rewrite checkpoints/last.ckpt when this many minutes have passed "
        "since it was last written (default 30: a long run loses at most half an hour to a "
        "kill; None: off).",
    )

    @field_validator("devices")
    @classmethod
    def _devices(cls, v: int | str | list[int]) -> int | str | list[int]:
        if isinstance(v, str) and v != "auto":
            if v.lstrip("-").isdigit():
                return int(v)
            raise ValueError("devices must be a number, a list of device ids, or 'auto'")
        if isinstance(v, int) and v == 0:
            raise ValueError("devices must be at least 1 (or -1 for all)")
        return v

    @field_validator("max_epochs", "max_steps")
    @classmethod
    def _limits(cls, v: int | None, info: ValidationInfo) -> int | None:
        if v == 0:
            # Lightning would set everything up, train nothing and leave no checkpoint.
            raise ValueError(f"{info.field_name} must be at least 1 (or -1 for no limit)")
        return v

    @model_validator(mode="after")
    def _lightning_args(self) -> TrainerConfig:
        from ltx_core.config.lightning_args import RESERVED, trainer_argument_names

        for key in self.model_extra or {}:
            if key in RESERVED:
                raise ValueError(f"'{key}' is set by ltx; use {RESERVED[key]}")
            known = trainer_argument_names()
            if known is not None and key not in known:
                from ltx_core.errors import did_you_mean

                hint = did_you_mean(key, sorted({*known, *type(self).model_fields})) or (
                    " It is neither an argument of Lightning's Trainer nor an ltx setting."
                )
                # _explain turns this into "Unknown key 'trainer.KEY'..." with its source.
                raise ValueError(f"{UNKNOWN_KEY}{key}|{hint}")
        return self

    @model_validator(mode="after")
    def _one_stop(self) -> TrainerConfig:
        if self.max_epochs is None and self.max_steps == -1:
            # Lightning would default to 1000 epochs; a run should say how long it is.
            self.__dict__["max_epochs"] = 1
        if self.max_epochs == -1 and self.max_steps == -1:
            raise ValueError(
                "a run needs a limit: set max_epochs or max_steps (both are unlimited)"
            )
        return self


class RunConfig(LtxConfig):
    """One run: the four component sections, optimisation, the Trainer and run settings.

    The core validates a run with a subclass made for the chosen components (each
    section typed by that component's own config model); code that reads a run sees
    this class, with every section typed by its base.
    """

    task: TaskConfig = Field(description="The task.")
    dataset: DataConfig | None = Field(None, description="The dataset.")
    backbone: LtxConfig | None = Field(None, description="The backbone.")
    tokenizer: LtxConfig | None = Field(None, description="The tokenizer.")
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    trainer: TrainerConfig = Field(default_factory=TrainerConfig)
    seed: int = Field(42, description="Random seed for everything.")
    output_dir: str | None = Field(
        None, description="Run directory (default: a new folder under runs/)."
    )
