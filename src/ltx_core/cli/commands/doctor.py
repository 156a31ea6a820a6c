"""``ltx doctor``: the environment, the accelerators, the plugins and their compatibility,
on one screen (torch-free unless ``--probe``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ltx_core.cli.boundary import error_boundary, out
from ltx_core.cli.tables import JsonOpt, columns
from ltx_core.doctor import Report, diagnose
from ltx_core.registry import get_registry


@error_boundary
def doctor(
    as_json: JsonOpt = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 2 when a plugin is broken or incompatible.")
    ] = False,
    probe: Annotated[
        bool, typer.Option("--probe", help="Import torch to list CUDA and MPS devices.")
    ] = False,
) -> None:
    """Why it does (or does not) work here: versions, accelerators, plugins, settings."""
    report = diagnose(get_registry(), probe=probe)
    if as_json:
        out(json.dumps(report.to_dict(), indent=2))
    else:
        out(_text(report))
    if strict and not report.healthy:
        raise typer.Exit(2)


def _text(report: Report) -> str:
    r = report.to_dict()
    lines = [f"Python {r['python']} on {r['platform']}"]
    lines += [
        f"  {name:<18} {version or 'not installed'}" for name, version in r["packages"].items()
    ]
    cpu = r["accelerators"]["cpu"]
    units = ", ".join(u for u in ("amx", "avx512_bf16") if cpu[u]) or "none"
    lines.append(f"CPU: {cpu['model']} ({cpu['cores']} cores; bf16 units: {units})")
    if "cuda" in r["accelerators"]:
        gpus = r["accelerators"]["cuda"]
        shown = ", ".join(f"{g['name']} (sm {g['capability']})" for g in gpus) or "none"
        lines.append(f"CUDA: {shown}; MPS: {'yes' if r['accelerators']['mps'] else 'no'}")
    else:
        lines.append("CUDA / MPS: not probed (ltx doctor --probe imports torch to list them)")
    auto = ", ".join(f"{k} -> {v}" for k, v in r["precision_auto"].items())
    lines.append(f"--precision auto: {auto}")
    lines += ["", f"Plugins (this ltx-core provides plugin API {r['plugin_api']}):"]
    rows = [
        [p["plugin"], p["distribution"], p["version"], str(p["api"] or "-"), p["status"]]
        for p in r["plugins"]
    ]
    lines.append(columns(["plugin", "distribution", "version", "api", "status"], rows))
    for p in r["plugins"]:
        lines += [f"  {p['plugin']}: {m}" for m in p["messages"]]
    offline = ", ".join(f"{k}={v}" for k, v in r["offline"].items() if v) or "none set"
    lines += ["", f"Offline settings: {offline}", f"Cache folder: {r['cache_dir']}"]
    if r["warnings"]:
        lines += ["", "Warnings:", *(f"  {w}" for w in r["warnings"])]
    lines += (
        ["", "Problems:", *(f"  {p}" for p in r["problems"])]
        if r["problems"]
        else [
            "",
            "No problems found.",
        ]
    )
    return "\n".join(lines)
