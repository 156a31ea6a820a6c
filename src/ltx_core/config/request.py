"""``RunRequest``: what a user asked for a run, before it is resolved — the task, the
component selectors, the config layers and the dedicated flags.

``ltx config``, ``ltx train`` and plugins' commands that start runs (``ltx sweep``) build
one from their command line and resolve it into a validated config. Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ltx_core.config.resolve import ResolvedConfig, resolve_config

__all__ = ["RunRequest"]


@dataclass(frozen=True)
class RunRequest:
    """A run as asked for: resolve it with :meth:`resolve`."""

    task: str | None
    overrides: list[str] = field(default_factory=list)
    dataset: str | None = None
    backbone: str | None = None
    tokenizer: str | None = None
    config_file: str | None = None
    #: The dedicated flags as the top config layer (``{"trainer": {...}, "seed": ...}``).
    flags: dict[str, Any] = field(default_factory=dict)

    def resolve(self, extra: list[str] | None = None) -> ResolvedConfig:
        """The validated run config; ``extra`` overrides go on top of the request's own."""
        return resolve_config(
            self.task,
            dataset=self.dataset,
            backbone=self.backbone,
            tokenizer=self.tokenizer,
            config_file=self.config_file,
            overrides=[*self.overrides, *(extra or [])],
            flags=self.flags,
        )
