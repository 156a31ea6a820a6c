"""One request's failure stays its own: when the task refuses one request of a batch
while predicting (its ``predict_batch`` raises ``LtxError`` for that request's inputs or
options), that request gets its error (the server's 422) and the others of the batch
get their results. Requests with equal options share one model call, however their
options were spelt. (The same over HTTP, in a real server: ``test_serve_refusal.py``.)"""

from __future__ import annotations

from typing import Any

from ltx_serve.worker import PredictJob, predict_requests
from pydantic import BaseModel

from ltx_core.errors import LtxError


class Options(BaseModel):
    fail: bool = False


class _Predictor:
    """Stands in for the checkpoint's Predictor: doubles numbers, refuses 'boom'."""

    def __init__(self) -> None:
        self.calls: list[list[Any]] = []

    def parse_options(self, raw: Any) -> Options:
        return raw if isinstance(raw, Options) else Options.model_validate(raw)

    def predict(self, inputs: list[Any], options: Options) -> list[Any]:
        self.calls.append(list(inputs))
        if "boom" in inputs or options.fail:
            raise LtxError("This task cannot predict 'boom'.")
        return [2 * x for x in inputs]


def test_a_refused_request_fails_alone_in_its_batch() -> None:
    predictor = _Predictor()
    batch = [
        PredictJob([1, 2], {}),
        PredictJob(["boom"], {"fail": False}),  # the same options as the first, spelt out
        PredictJob([3], {}),
        PredictJob([4], {"fail": True}),
    ]
    results = predict_requests(predictor, batch)
    assert results[0] == [2, 4] and results[2] == [6]
    for refused in (results[1], results[3]):
        assert isinstance(refused, LtxError)
        assert str(refused) == "This task cannot predict 'boom'."
    # The group of equal options was tried together first, then one request at a time.
    assert predictor.calls[0] == [1, 2, "boom", 3]
    assert predictor.calls[1:] == [[1, 2], ["boom"], [3], [4]]


def test_requests_with_equal_options_share_one_model_call() -> None:
    predictor = _Predictor()
    results = predict_requests(
        predictor, [PredictJob([1], {}), PredictJob([2, 3], {"fail": False}), PredictJob([], {})]
    )
    assert results == [[2], [4, 6], []]
    assert predictor.calls == [[1, 2, 3]]
