"""``ltx doctor``: why it does or does not work here, on one screen.

The versions of Python and of the libraries runs use, the accelerators and what
``--precision auto`` picks on them, every installed plugin with the plugin API it targets
and its status (ok, notes, incompatible, broken, a component not loaded, a name it shares
with another plugin), the offline settings and the cache folder.

Torch-free unless asked to probe the devices (``probe=True``): versions come from the
installed distributions' metadata and the CPU's capabilities from ``/proc/cpuinfo``.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from ltx_core._version import __version__
from ltx_core.config.paths import cache_dir
from ltx_core.engine.precision import FAST_BF16_CPU_FLAGS, cpu_flags, cpu_model
from ltx_core.registry import PLUGIN_API, Registry

__all__ = ["PACKAGES", "Report", "diagnose"]

#: The libraries whose versions explain most "works there, not here" reports.
PACKAGES = ("ltx-core", "torch", "pytorch-lightning", "lightning", "transformers", "pydantic")
#: Settings that keep the Hugging Face libraries off the network.
OFFLINE = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")


@dataclass
class Report:
    """What ``ltx doctor`` prints (``to_dict`` is its ``--json``)."""

    python: str
    platform: str
    packages: dict[str, str | None]
    plugin_api: int
    accelerators: dict[str, Any]
    precision_auto: dict[str, str]
    plugins: list[dict[str, Any]]
    offline: dict[str, str | None]
    cache_dir: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """No plugin failed, none is incompatible, no component was dropped."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "python": self.python,
            "platform": self.platform,
            "packages": self.packages,
            "plugin_api": self.plugin_api,
            "accelerators": self.accelerators,
            "precision_auto": self.precision_auto,
            "plugins": self.plugins,
            "offline": self.offline,
            "cache_dir": self.cache_dir,
            "problems": self.problems,
            "warnings": self.warnings,
        }


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu() -> dict[str, Any]:
    flags = cpu_flags()
    return {
        "model": cpu_model(),
        "cores": os.cpu_count(),
        "bf16": any(f in flags for f in FAST_BF16_CPU_FLAGS),
        "amx": "amx_bf16" in flags,
        "avx512_bf16": "avx512_bf16" in flags,
    }


def _devices() -> dict[str, Any]:
    """CUDA and MPS as torch sees them (imports torch)."""
    import torch

    cuda = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            major, minor = torch.cuda.get_device_capability(i)
            cuda.append({"name": torch.cuda.get_device_name(i), "capability": f"{major}.{minor}"})
    mps = getattr(torch.backends, "mps", None)
    return {
        "cuda": cuda,
        "cuda_runtime": torch.version.cuda,
        "mps": bool(mps is not None and mps.is_available()),
    }


def _plugins(registry: Registry) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """Each plugin's row, the problems (unhealthy) and the warnings."""
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    warnings: list[str] = []
    shared: dict[str, list[str]] = {}
    for specs in registry.clashes():
        names = " or ".join(f"'{s.qualified_name}'" for s in specs)
        sentence = f"the {specs[0].kind} name '{specs[0].name}' is shared: use {names}"
        warnings.append(sentence[0].upper() + sentence[1:] + ".")
        for s in specs:
            shared.setdefault(s.plugin, []).append(f"{s.kind} '{s.name}'")
    for kept, other in registry.command_clashes():
        warnings.append(
            f"The command '{other.name}' of plugin {other.plugin} is not used: plugin "
            f"{kept.plugin} registers it first."
        )
    invalid: dict[str, list[str]] = {}
    for failure in registry.failures:
        if failure.status == "invalid":
            invalid.setdefault(failure.plugin, []).append(failure.error)
    for info in registry.plugins:
        status, messages = "ok", list(info.notes)
        if info.plugin in shared:
            status = "clashing"
            messages.append("shares names with another plugin: " + ", ".join(shared[info.plugin]))
        if info.plugin in invalid:
            status = "invalid"
            messages += invalid[info.plugin]
            problems += [f"Plugin {info.plugin}: {m}." for m in invalid[info.plugin]]
        rows.append(
            {
                "plugin": info.plugin,
                "distribution": info.distribution,
                "version": info.version,
                "api": info.api,
                "status": status,
                "components": len(info.components),
                "commands": list(info.commands),
                "messages": messages,
            }
        )
    for failure in registry.failures:
        if failure.status == "invalid":
            continue
        rows.append(
            {
                "plugin": failure.plugin,
                "distribution": failure.distribution,
                "version": failure.version,
                "api": None,
                "status": failure.status,
                "components": 0,
                "commands": [],
                "messages": [failure.error],
            }
        )
        what = "is not loaded" if failure.status == "incompatible" else "failed to load"
        problems.append(
            f"Plugin {failure.plugin} ({failure.distribution} {failure.version}) {what}: "
            f"{failure.error}."
        )
    return rows, problems, warnings


def diagnose(registry: Registry, *, probe: bool = False) -> Report:
    """The report of this environment; ``probe`` imports torch to list CUDA / MPS devices."""
    from ltx_core.engine.precision import resolve_precision

    cpu = _cpu()
    accelerators: dict[str, Any] = {"cpu": cpu}
    auto = {"cpu": str(resolve_precision("auto", "cpu"))}
    if probe:
        devices = _devices()
        accelerators.update(devices)
        if devices["cuda"]:
            auto["gpu"] = str(resolve_precision("auto", "gpu"))
    rows, problems, warnings = _plugins(registry)
    cache = str(cache_dir())
    return Report(
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.machine()} ({sys.platform})",
        packages={name: _version(name) for name in PACKAGES} | {"ltx-core": __version__},
        plugin_api=PLUGIN_API,
        accelerators=accelerators,
        precision_auto=auto,
        plugins=rows,
        offline={name: os.environ.get(name) for name in OFFLINE},
        cache_dir=cache,
        problems=problems,
        warnings=warnings,
    )
