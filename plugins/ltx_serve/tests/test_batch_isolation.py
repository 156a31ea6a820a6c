"""One request's failure stays its own: when the task refuses one request of a batch
while predicting (its ``predict_batch`` raises ``LtxError`` for that request's inputs or
options), that request gets its 422 and the others of the batch get their results."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ltx_core.errors import LtxError

ltx_serve_server = pytest.importorskip("ltx_serve.server")


class _Predictor:
    """Stands in for the checkpoint's Predictor: doubles numbers, refuses 'boom'."""

    def __init__(self) -> None:
        self.calls: list[list[Any]] = []

    def parse_options(self, raw: dict[str, Any]) -> dict[str, Any]:
        return dict(raw)

    def predict(self, inputs: list[Any], options: dict[str, Any]) -> list[Any]:
        self.calls.append(list(inputs))
        if "boom" in inputs or options.get("fail"):
            raise LtxError("This task cannot predict 'boom'.")
        return [2 * x for x in inputs]


def _api(max_batch_size: int) -> Any:
    api = ltx_serve_server.LtxLitAPI("unused.ckpt", max_batch_size=max_batch_size)
    api.predictor = _Predictor()
    return api


def test_a_refused_request_fails_alone_in_its_batch() -> None:
    api = _api(4)
    batch = [([1, 2], {}), (["boom"], {}), ([3], {}), ([4], {"fail": True})]
    outputs = api.predict(batch)
    assert outputs[0] == [2, 4] and outputs[2] == [6]
    for refused in (outputs[1], outputs[3]):
        response = api.encode_response(refused)
        assert response.status_code == 422
        assert json.loads(response.body) == {"error": "This task cannot predict 'boom'."}
    assert api.encode_response(outputs[0]).outputs == [2, 4]
    # The group of equal options was tried together first, then one request at a time.
    assert api.predictor.calls[0] == [1, 2, "boom", 3]


def test_without_batching_a_refusal_is_the_request_s_own_422() -> None:
    from fastapi import HTTPException

    api = _api(1)
    assert api.predict(([5], {})) == [10]
    with pytest.raises(HTTPException) as refused:
        api.predict((["boom"], {}))
    assert refused.value.status_code == 422
    assert refused.value.detail == "This task cannot predict 'boom'."
