"""ltx-sweep's tests run with ltx's fixtures (the pytest plugin that ships with ltx-core):
each in its own folder, cache and registry. The task they sweep is the small v2-API demo
plugin of ltx's own tests (``tests/support/ltx_demo_v2.py``), registered in-process."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SUPPORT = Path(__file__).resolve().parents[3] / "tests" / "support"


@pytest.fixture(autouse=True)
def _ltx(ltx_env: Path) -> Iterator[None]:
    yield


@pytest.fixture
def demo_plugin(ltx_plugin: Callable[..., None]) -> Iterator[None]:
    sys.path.insert(0, str(SUPPORT))
    import ltx_demo_v2

    ltx_plugin("demo", ltx_demo_v2, "ltx-demo-v2", "2.0.0")
    try:
        yield
    finally:
        sys.path.remove(str(SUPPORT))
