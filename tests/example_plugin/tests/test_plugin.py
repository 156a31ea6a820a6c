"""The ltx conformance kit on this plugin: specs, configs, torch-free listing, a CPU run."""

from __future__ import annotations

import pytest

from ltx_core.authoring.conformance import conformance_cases

CASES = conformance_cases("toy")


@pytest.mark.parametrize("check", [c for _, c in CASES], ids=[i for i, _ in CASES])
def test_conformance(check, tmp_path):
    check(tmp_path)
