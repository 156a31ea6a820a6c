"""ltx-serve's tests run with ltx's fixtures (the pytest plugin that ships with ltx-core):
each in its own folder and registry, with the session's cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _ltx(ltx_env: Path) -> Iterator[None]:
    yield
