"""Dynamic batching for ``ltx serve``: the requests of every client meet in one queue,
and model threads take them from it in batches.

The event loop (uvicorn's, one thread) submits jobs (:meth:`Batcher.submit`) and awaits
their futures; each model thread (one per device) runs :meth:`Batcher.work`: it blocks
on a condition until there is work, takes up to ``max_batch_size`` jobs, runs them as
one batch and resolves each job's future on the event loop
(``loop.call_soon_threadsafe``). Nothing polls. A running batch may take more jobs of
its kind from the head of the queue between its steps (:meth:`Batcher.take_more`:
streamed chat answers join a running generation between two tokens).

When a batch waits: never for nobody. A model thread that has taken a job runs its
batch at once when the queue is empty and no other request is on its way in (its
headers read, its body still being received or checked: an :class:`Arrival`); while
more are arriving it waits for them, at most ``batch_timeout`` seconds, or until the
batch is full. A slow client therefore delays others by at most ``batch_timeout``.

Pure Python (no torch, no web framework): the server and its tests drive it with any
``run`` function.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["ARRIVAL_KEY", "Arrival", "Batcher", "Job", "wait_result"]

#: Where the server's middleware puts a request's :class:`Arrival` in its ASGI scope;
#: the endpoint hands it to :meth:`Batcher.submit`.
ARRIVAL_KEY = "ltx.arrival"


class Job:
    """One request's work (``payload``) and the future its answer resolves."""

    __slots__ = ("abandoned", "future", "kind", "loop", "payload")

    def __init__(self, payload: Any, loop: asyncio.AbstractEventLoop, *, kind: str) -> None:
        self.payload = payload
        #: What sort of work it is: a batch holds jobs of one kind only (streamed answers
        #: are generated together, apart from plain predictions).
        self.kind = kind
        self.loop = loop
        self.future: asyncio.Future[Any] = loop.create_future()
        #: Set when its request stopped waiting (timed out): it is not run, or its
        #: runner may stop sending it pieces.
        self.abandoned = False

    def settle(self, result: Any) -> None:
        """Resolve the future from any thread: ``result``, or its error when it is an
        exception."""
        # A closed loop: the server has stopped, and nobody waits.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(_settle, self.future, result)


def _settle(future: asyncio.Future[Any], result: Any) -> None:
    if future.done():  # cancelled: its request timed out
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


class Arrival:
    """A request on its way in: counted from its headers until it is submitted (or
    answered without being submitted), so that a batch waits for it."""

    __slots__ = ("_batcher", "open")

    def __init__(self, batcher: Batcher) -> None:
        self._batcher = batcher
        self.open = True

    def end(self) -> None:
        """No longer arriving (idempotent): submitted, refused or gone."""
        self._batcher._end(self)


class Batcher:
    """One queue of jobs, taken in batches by model threads.

    ``submit``, ``arrival`` and ``abandon`` are called on the event loop; ``take`` and
    ``work`` in model threads; ``close`` from anywhere.
    """

    def __init__(self, *, max_batch_size: int = 16, batch_timeout: float = 0.005) -> None:
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, not {max_batch_size}")
        if batch_timeout < 0:
            raise ValueError(f"batch_timeout must be 0 or more, not {batch_timeout}")
        self.max_batch_size = max_batch_size
        self.batch_timeout = batch_timeout
        self._lock = threading.Lock()
        #: Where a thread gathering its batch waits for the requests still arriving.
        self._cond = threading.Condition(self._lock)
        #: Where each idle model thread waits for work, by rank: only the thread that
        #: would take the work is woken (see :meth:`_wake_idle`).
        self._ready: dict[int, threading.Condition] = {}
        self._queue: deque[Job] = deque()
        self._arriving = 0
        self._closed = False
        self._wake_pending = False
        #: The ranks of the model threads waiting for work (see :meth:`take`).
        self._idle: set[int] = set()

    # -- the event loop's side ------------------------------------------------
    def arrival(self) -> Arrival:
        """Count a request whose body is still being received or checked."""
        with self._cond:
            self._arriving += 1
        return Arrival(self)

    def submit(self, payload: Any, *, kind: str = "predict", arrival: Arrival | None = None) -> Job:
        """Queue ``payload`` (on the running event loop) to be batched with other jobs of
        its ``kind``; its arrival, if counted, ends."""
        loop = asyncio.get_running_loop()
        job = Job(payload, loop, kind=kind)
        with self._cond:
            if self._closed:
                job.future.set_exception(RuntimeError("The server is shutting down."))
                return job
            self._queue.append(job)
            if arrival is not None and arrival.open:
                arrival.open = False
                self._arriving -= 1
        self._wake(loop)
        return job

    def abandon(self, job: Job) -> None:
        """Its request stopped waiting: drop it from the queue if it is still there."""
        job.abandoned = True
        with self._cond:
            if job in self._queue:
                self._queue.remove(job)

    def _end(self, arrival: Arrival) -> None:
        with self._cond:
            if not arrival.open:
                return
            arrival.open = False
            self._arriving -= 1
        try:
            self._wake(asyncio.get_running_loop())
        except RuntimeError:  # ended outside the loop (tests): wake at once
            self._notify()

    def _wake(self, loop: asyncio.AbstractEventLoop) -> None:
        # Model threads are woken on the loop's next turn, not at once: requests that
        # reached the server together are parsed in this turn, and a model thread woken
        # after it finds them all queued instead of starting a batch of the first one
        # (and fighting the event loop for the GIL while the others are parsed).
        if self._wake_pending:
            return
        self._wake_pending = True
        loop.call_soon(self._notify)

    def _notify(self) -> None:
        self._wake_pending = False
        with self._lock:
            self._cond.notify_all()
            self._wake_idle()

    def _wake_idle(self) -> None:
        """Wake the idle model thread that takes the next job, if one is queued (the
        lock held).

        Only that one: the event loop and the model thread that takes a request may
        already share every core (two, on the benchmark VM), and any other thread woken
        only to find the work is not its own takes the GIL and a core from both."""
        if self._queue and self._idle:
            ready = self._ready.get(min(self._idle))
            if ready is not None:  # not there yet: it looks at the queue before waiting
                ready.notify()

    # -- the model threads' side ----------------------------------------------
    def take(self, rank: int = 0) -> list[Job] | None:
        """The next batch (blocking until there is one), or ``None`` once closed.

        ``rank``: which model thread asks. Work goes to the lowest-ranked thread that is
        waiting for it, so one client at a time is served by the same thread each time:
        on the CPU, two model threads taking turns with single requests made each
        request about 3 ms slower than one thread taking them all (a small BERT, 12.0
        against 8.4 ms: each model thread's torch threads are an OpenMP team of its own,
        and switching teams costs that). A higher-ranked thread takes work while the
        lower ones are busy. A thread counts as waiting from the moment its last batch's
        answers start going out (:meth:`work`)."""
        with self._lock:
            ready = self._ready.setdefault(rank, threading.Condition(self._lock))
            self._idle.add(rank)
            try:
                while True:
                    while not self._closed and (
                        not self._queue or any(r < rank for r in self._idle)
                    ):
                        ready.wait()
                    if self._closed:
                        return None
                    first = self._queue.popleft()
                    if not first.abandoned:
                        break
            finally:
                self._idle.discard(rank)
                # A thread of a higher rank may take what this one leaves queued.
                self._wake_idle()
            batch = [first]
            deadline = time.monotonic() + self.batch_timeout
            while len(batch) < self.max_batch_size and not self._closed:
                if self._queue:
                    if self._queue[0].kind != first.kind:  # it starts the next batch
                        break
                    job = self._queue.popleft()
                    if not job.abandoned:
                        batch.append(job)
                    continue
                if self._arriving == 0:  # nobody else is coming: run now
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            self._wake_idle()  # what this batch leaves (another kind, or over its size)
            return batch

    def take_more(self, kind: str, accept: Callable[[Any], bool], limit: int) -> list[Job]:
        """Jobs waiting at the head of the queue that may join a running batch of
        ``kind`` (``accept(payload)`` true), at most ``limit``; without waiting.

        Only from the head: a job of another kind, or one the batch cannot take, ends
        the taking, so a running batch never takes jobs that arrived after one it
        leaves waiting (and cannot grow forever while that one waits). The caller
        settles the jobs it takes."""
        taken: list[Job] = []
        with self._cond:
            while self._queue and len(taken) < limit:
                job = self._queue[0]
                if not job.abandoned and (job.kind != kind or not accept(job.payload)):
                    break
                self._queue.popleft()
                if not job.abandoned:
                    taken.append(job)
        return taken

    def work(self, run: Callable[[list[Any]], Sequence[Any]], rank: int = 0) -> None:
        """Run batches until closed: ``run(payloads)`` returns one result per payload,
        in order (an exception instance fails that job alone); if ``run`` raises, every
        job of the batch gets that error. ``rank``: the model thread's (see
        :meth:`take`)."""
        while (batch := self.take(rank)) is not None:
            try:
                results = list(run([job.payload for job in batch]))
                if len(results) != len(batch):
                    raise RuntimeError(
                        f"The model returned {len(results)} results for {len(batch)} requests."
                    )
            except Exception as exc:
                results = [exc] * len(batch)
            # Idle from now, before its answers go out: a client's next request, sent
            # on reading its answer, is this thread's even if the thread has not yet
            # come back to take it (see take).
            with self._cond:
                self._idle.add(rank)
            for job, result in zip(batch, results, strict=True):
                job.settle(result)

    def close(self) -> None:
        """Stop the model threads after their current batch; queued jobs get an error."""
        with self._lock:
            self._closed = True
            left = list(self._queue)
            self._queue.clear()
            self._cond.notify_all()
            for ready in self._ready.values():
                ready.notify_all()
        for job in left:
            job.settle(RuntimeError("The server is shutting down."))

    @property
    def queued(self) -> int:
        """Jobs waiting for a model thread."""
        with self._cond:
            return len(self._queue)

    @property
    def arriving(self) -> int:
        """Requests on their way in."""
        with self._cond:
            return self._arriving


async def wait_result(batcher: Batcher, job: Job, timeout: float) -> Any:
    """The job's result (its error raised), or ``TimeoutError`` after ``timeout`` seconds
    (the job is then abandoned: dropped from the queue if it has not started)."""
    try:
        return await asyncio.wait_for(job.future, timeout)
    except asyncio.TimeoutError:
        batcher.abandon(job)
        raise TimeoutError from None
