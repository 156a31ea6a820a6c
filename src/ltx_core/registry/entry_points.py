"""The installed plugins: entry points of the group ``ltx``, read straight from the
``*.dist-info`` folders on ``sys.path`` (importlib.metadata costs about 50 ms of imports,
a sixth of the budget of ``ltx list``)."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import Any

from ltx_core.registry.spec import load_object

__all__ = ["ENTRY_POINT_GROUP", "EntryPoint", "entry_points"]

ENTRY_POINT_GROUP = "ltx"


@dataclass(frozen=True)
class EntryPoint:
    """An ``ltx`` entry point and the distribution that declares it."""

    name: str
    value: str
    distribution: str
    version: str
    #: The distribution's own requirements on ltx-core (``Requires-Dist``), e.g.
    #: ``("ltx-core[train]>=0.2",)``: checked before the plugin is imported.
    requires_core: tuple[str, ...] = ()

    def load(self) -> Any:
        return load_object(self.value if ":" in self.value else self.value + ":")


_CORE = re.compile(r"^ltx[-_.]core\b", re.IGNORECASE)


def _read_header(meta_dir: str) -> tuple[str, str, tuple[str, ...]]:
    """Name, Version and the requirements on ltx-core from a dist-info METADATA / egg-info
    PKG-INFO header (the header ends at its first blank line)."""
    name = version = ""
    requires: list[str] = []
    for fname in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(meta_dir, fname), encoding="utf-8") as fh:
                for line in fh:
                    if not line.strip():
                        break
                    if line.startswith("Name:"):
                        name = line[5:].strip()
                    elif line.startswith("Version:"):
                        version = line[8:].strip()
                    elif line.startswith("Requires-Dist:"):
                        req = line[14:].strip()
                        # Requirements under an extra or a marker are not the plugin's own.
                        if _CORE.match(req) and ";" not in req:
                            requires.append(req)
            break
        except OSError:
            continue
    return name, version, tuple(requires)


def entry_points(group: str = ENTRY_POINT_GROUP) -> list[EntryPoint]:
    """The entry points of ``group`` on ``sys.path``, first distribution wins.

    A direct scan of ``*.dist-info/entry_points.txt``: importlib.metadata costs
    about 50 ms of imports, a sixth of the budget of ``ltx list``.
    """
    header = f"[{group}]"
    found: list[EntryPoint] = []
    seen_dists: set[str] = set()
    for base in sys.path:
        try:
            entries = os.scandir(base or ".")
        except OSError:
            continue
        with entries:
            for entry in entries:
                if not entry.name.endswith((".dist-info", ".egg-info")):
                    continue
                stem = entry.name.rsplit(".", 1)[0]  # drop .dist-info / .egg-info
                dist_key = stem.split("-")[0].lower().replace(".", "_")
                if dist_key in seen_dists:
                    continue
                seen_dists.add(dist_key)
                try:
                    with open(os.path.join(entry.path, "entry_points.txt"), encoding="utf-8") as fh:
                        text = fh.read()
                except OSError:
                    continue
                if header not in text:
                    continue
                name, version, requires = _read_header(entry.path)
                section = ""
                for raw in text.splitlines():
                    line = raw.strip()
                    if line.startswith("["):
                        section = line
                    elif section == header and "=" in line and not line.startswith(("#", ";")):
                        key, _, value = line.partition("=")
                        found.append(
                            EntryPoint(key.strip(), value.strip(), name, version, requires)
                        )
    return found
