"""``summary.json``: what a run leaves as its numbers — final metrics, throughput, MFU,
wall time, peak memory, how it stopped, parameters and the versions of what it used."""

from __future__ import annotations

import math
import platform
import re
from collections.abc import Mapping
from importlib import metadata
from typing import Any

import pytorch_lightning as pl

from ltx_core.config.resolve import ResolvedConfig

__all__ = ["CORE_PACKAGES", "floats", "package_versions", "stopped_by"]


#: What every run uses, whatever its plugins: ltx-core and its training stack.
CORE_PACKAGES = ("ltx-core", "torch", "pytorch-lightning", "pydantic")


def _requirement_names(distribution: str) -> list[str]:
    """The names of a distribution's unconditional requirements (no extras, no markers)."""
    try:
        requires = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return []
    names = []
    for req in requires:
        if ";" in req:  # extras and platform markers: not what the run necessarily used
            continue
        names.append(re.split(r"[\s\[<>=!~(]", req.strip(), maxsplit=1)[0])
    return names


def package_versions(resolved: ResolvedConfig | None = None) -> dict[str, str]:
    """Versions of what the run used: Python, ltx-core and its training stack, and each
    plugin that built a component with the packages that plugin requires."""
    out = {"python": platform.python_version()}
    names: list[str] = list(CORE_PACKAGES)
    for spec in resolved.specs.values() if resolved else ():
        if spec is not None and spec.distribution:
            names += [spec.distribution, *_requirement_names(spec.distribution)]
    for name in dict.fromkeys(names):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def floats(metrics: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in metrics.items():
        try:
            f = float(value)
        except (TypeError, ValueError):
            continue
        if not math.isnan(f):
            out[key] = f
    return out


def environment_name(trainer: pl.Trainer) -> str | None:
    """The cluster environment Lightning detected (SLURMEnvironment, TorchElasticEnvironment,
    LightningEnvironment, ...); None for a single-device run."""
    env = getattr(trainer.strategy, "cluster_environment", None)
    return type(env).__name__ if env is not None else None


def stopped_by(trainer: pl.Trainer) -> str:
    if trainer.interrupted:
        return "signal"
    if trainer.max_steps is not None and 0 < trainer.max_steps <= trainer.global_step:
        return "max_steps"
    if trainer.max_epochs is not None and 0 < trainer.max_epochs <= trainer.current_epoch:
        return "max_epochs"
    return "early_stopping" if trainer.should_stop else "end_of_data"
