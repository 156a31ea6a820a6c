"""The batcher of ``ltx serve`` on its own: no HTTP, no model. A model thread runs
:meth:`Batcher.work` with a fake ``run`` (it doubles numbers and refuses ``"boom"``)
while the test's event loop submits jobs, as the server's endpoints do.

- a lone request runs at once, not after the batch timeout;
- requests that arrive together are batched, up to the maximum size;
- a batch waits for a request still arriving, at most the batch timeout;
- a request whose own prediction fails gets its error, the others of its batch their
  results; a request that timed out is not run; closing fails what is still queued;
- a running batch takes more jobs of its kind from the head of the queue only;
- with several model threads, the lowest-ranked idle one takes the next batch.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from ltx_serve.batching import Batcher, wait_result

#: Long enough that a test waiting for it would fail its own time limit.
LONG = 5.0


class Model:
    """A fake model thread: records each batch, doubles numbers, refuses 'boom' alone;
    ``gate`` (when given) holds every batch until it is set."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.batches: list[list[Any]] = []
        self.gate = gate
        self.entered = threading.Event()  # a batch has started

    def run(self, payloads: list[Any]) -> list[Any]:
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(LONG), "the test never opened the gate"
        self.batches.append(list(payloads))
        return [ValueError(f"no {p!r}") if p == "boom" else 2 * p for p in payloads]


@pytest.fixture
def serving() -> Iterator[Any]:
    """``start(batcher, model)`` runs a model thread; every one started is stopped."""
    started: list[tuple[Batcher, threading.Thread]] = []

    def start(batcher: Batcher, model: Model, rank: int = 0) -> None:
        thread = threading.Thread(target=batcher.work, args=(model.run, rank), daemon=True)
        thread.start()
        started.append((batcher, thread))

    yield start
    for batcher, thread in started:
        batcher.close()
        thread.join(LONG)
        assert not thread.is_alive()


def test_a_lone_request_runs_without_waiting_for_the_timeout(serving: Any) -> None:
    batcher, model = Batcher(max_batch_size=8, batch_timeout=LONG), Model()
    serving(batcher, model)

    async def main() -> tuple[Any, float]:
        start = time.monotonic()
        answer = await wait_result(batcher, batcher.submit(21), LONG)
        return answer, time.monotonic() - start

    answer, took = asyncio.run(main())
    assert answer == 42 and model.batches == [[21]]
    assert took < LONG / 5, took


def test_requests_arriving_together_are_batched_up_to_the_maximum(serving: Any) -> None:
    batcher, model = Batcher(max_batch_size=3, batch_timeout=LONG), Model()
    serving(batcher, model)

    async def main() -> tuple[list[Any], float]:
        start = time.monotonic()
        # Submitted in one turn of the loop, as requests parsed together are: the model
        # thread is woken after it, and finds them all queued.
        jobs = [batcher.submit(n) for n in range(7)]
        answers = await asyncio.gather(*(wait_result(batcher, j, LONG) for j in jobs))
        return list(answers), time.monotonic() - start

    answers, took = asyncio.run(main())
    assert answers == [2 * n for n in range(7)]
    assert model.batches == [[0, 1, 2], [3, 4, 5], [6]]
    assert took < LONG / 5, took  # the last, short batch did not wait for company


def test_the_lowest_ranked_idle_thread_takes_the_work(serving: Any) -> None:
    """One request at a time always goes to the same model thread (rank 0), however
    they were started; the next thread takes work while the first is busy."""
    batcher = Batcher(max_batch_size=4, batch_timeout=0)
    gate = threading.Event()
    gate.set()
    first, second = Model(gate), Model()
    serving(batcher, second, 1)  # started first, and waiting first
    time.sleep(0.1)
    serving(batcher, first, 0)
    time.sleep(0.1)

    async def one_at_a_time() -> list[Any]:
        return [await wait_result(batcher, batcher.submit(n), LONG) for n in range(6)]

    assert asyncio.run(one_at_a_time()) == [2 * n for n in range(6)]
    assert first.batches == [[n] for n in range(6)] and second.batches == []

    gate.clear()  # the first thread's next batch holds it
    first.entered.clear()

    async def while_busy() -> list[Any]:
        held = batcher.submit(10)
        await asyncio.to_thread(first.entered.wait, LONG)
        other = await wait_result(batcher, batcher.submit(11), LONG)
        gate.set()
        return [await wait_result(batcher, held, LONG), other]

    assert asyncio.run(while_busy()) == [20, 22]
    assert first.batches[-1] == [10] and second.batches == [[11]]


def test_a_batch_waits_for_a_request_still_arriving_at_most_the_timeout(serving: Any) -> None:
    timeout = 0.5
    batcher, model = Batcher(max_batch_size=8, batch_timeout=timeout), Model()
    serving(batcher, model)

    async def main() -> tuple[float, float]:
        # One request comes in soon after the first: the batch waits for it.
        coming = batcher.arrival()
        first = batcher.submit(1)
        await asyncio.sleep(timeout / 5)
        second = batcher.submit(2, arrival=coming)
        assert await asyncio.gather(wait_result(batcher, first, LONG),
                                    wait_result(batcher, second, LONG)) == [2, 4]  # fmt: skip
        # One never finishes arriving (a stalled client): the batch runs after the timeout.
        stalled = batcher.arrival()
        start = time.monotonic()
        assert await wait_result(batcher, batcher.submit(3), LONG) == 6
        waited = time.monotonic() - start
        stalled.end()
        start = time.monotonic()
        assert await wait_result(batcher, batcher.submit(4), LONG) == 8  # nobody arriving
        return waited, time.monotonic() - start

    waited, alone = asyncio.run(main())
    assert model.batches == [[1, 2], [3], [4]]
    assert timeout * 0.8 <= waited < timeout + 1.5, waited
    assert alone < timeout, alone


def test_a_failing_request_gets_its_error_and_the_others_their_results(serving: Any) -> None:
    gate = threading.Event()
    batcher, model = Batcher(max_batch_size=4, batch_timeout=LONG), Model(gate)
    serving(batcher, model)

    async def main() -> list[Any]:
        jobs = [batcher.submit(p) for p in (1, "boom", 3)]
        gate.set()
        return await asyncio.gather(*(wait_result(batcher, j, LONG) for j in jobs),
                                    return_exceptions=True)  # fmt: skip

    one, boom, three = asyncio.run(main())
    assert model.batches == [[1, "boom", 3]]  # one batch
    assert (one, three) == (2, 6)
    assert isinstance(boom, ValueError) and str(boom) == "no 'boom'"


def test_a_run_that_raises_fails_its_whole_batch_and_the_thread_goes_on(serving: Any) -> None:
    calls: list[list[Any]] = []

    def run(payloads: list[Any]) -> list[Any]:
        calls.append(payloads)
        if "crash" in payloads:
            raise RuntimeError("out of memory")
        return payloads

    batcher = Batcher(max_batch_size=4, batch_timeout=0)
    thread = threading.Thread(target=batcher.work, args=(run,), daemon=True)
    thread.start()

    async def main() -> list[Any]:
        jobs = [batcher.submit(p) for p in ("a", "crash")]
        failed = await asyncio.gather(*(wait_result(batcher, j, LONG) for j in jobs),
                                      return_exceptions=True)  # fmt: skip
        return [*failed, await wait_result(batcher, batcher.submit("b"), LONG)]

    try:
        first, second, after = asyncio.run(main())
    finally:
        batcher.close()
        thread.join(LONG)
    assert isinstance(first, RuntimeError) and isinstance(second, RuntimeError)
    assert after == "b" and calls == [["a", "crash"], ["b"]]


def test_a_timed_out_request_is_not_run_and_close_fails_the_queued(serving: Any) -> None:
    gate = threading.Event()
    batcher, model = Batcher(max_batch_size=1, batch_timeout=0), Model(gate)
    serving(batcher, model)

    async def main() -> Any:
        busy = batcher.submit(1)  # holds the model thread until the gate opens
        assert await asyncio.to_thread(model.entered.wait, LONG)
        late = batcher.submit(2)
        with pytest.raises(TimeoutError):
            await wait_result(batcher, late, 0.1)
        queued = batcher.submit(3)
        assert batcher.queued == 1  # 3 only: 2 left the queue when it timed out
        batcher.close()
        with pytest.raises(RuntimeError, match="shutting down"):
            await wait_result(batcher, queued, LONG)
        gate.set()
        return await wait_result(batcher, busy, LONG)  # the running batch finishes

    assert asyncio.run(main()) == 2
    assert model.batches == [[1]]


def test_jobs_are_batched_with_their_own_kind_only(serving: Any) -> None:
    """Streams and plain predictions queued together run in separate batches, in their
    order of arrival: streams with streams, predictions with predictions."""
    gate = threading.Event()
    batcher, model = Batcher(max_batch_size=8, batch_timeout=LONG), Model(gate)
    serving(batcher, model)

    async def main() -> list[Any]:
        kinds = ["predict", "stream", "stream", "stream", "predict", "predict"]
        jobs = [batcher.submit(n, kind=kind) for n, kind in enumerate(kinds)]
        gate.set()
        return list(await asyncio.gather(*(wait_result(batcher, j, LONG) for j in jobs)))

    assert asyncio.run(main()) == [0, 2, 4, 6, 8, 10]
    assert model.batches == [[0], [1, 2, 3], [4, 5]]


def test_a_running_batch_takes_more_from_the_head_of_the_queue_only() -> None:
    """``take_more`` (streams joining a running generation) takes jobs of the batch's
    kind that it accepts, at most the room left, skips abandoned ones, and stops at the
    first job it may not take: nothing queued behind that one overtakes it."""
    batcher = Batcher()

    async def main() -> list[Any]:
        jobs = [batcher.submit(n, kind="stream") for n in range(6)]
        batcher.abandon(jobs[1])
        taken = batcher.take_more("stream", lambda n: n != 4, limit=2)  # 0, 2
        taken += batcher.take_more("stream", lambda n: n != 4, limit=5)  # 3; 4 is refused
        taken += batcher.take_more("predict", lambda n: True, limit=5)  # another kind
        return [j.payload for j in taken]

    assert asyncio.run(main()) == [0, 2, 3]
    assert batcher.queued == 2  # 4, and 5 behind it
