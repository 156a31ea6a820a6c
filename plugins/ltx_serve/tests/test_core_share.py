"""The CPU's model threads share its cores by how many compute at once: one alone takes
every core, two take half each, and each thread's torch thread count is its own (it
holds through torch's parallel operations, whatever another thread sets)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from ltx_serve.batching import Batcher
from ltx_serve.worker import CoreShare, ModelThread


def _together(*targets: Callable[[], None]) -> None:
    """Run each target in a thread of its own, and wait for them all."""
    workers = [threading.Thread(target=t) for t in targets]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)


def test_the_cores_are_shared_by_the_threads_computing() -> None:
    share = CoreShare(4)
    assert share.threads() == 4
    with share.computing():
        assert share.threads() == 4  # alone: every core
        with share.computing():
            assert share.threads() == 2
            with share.computing(), share.computing(), share.computing():
                assert share.threads() == 1  # never none
        assert share.threads() == 4
    assert CoreShare(0).threads() == 1


def test_a_thread_waits_for_the_cores_another_holds_until_its_next_fit() -> None:
    share = CoreShare(2)
    holding, taken = threading.Event(), threading.Event()
    got: dict[str, int] = {}

    def first() -> None:
        with share.computing():
            got["first, alone"] = share.take()
            holding.set()
            taken.wait(0.3)  # in a forward pass: the second must not start meanwhile
            got["second took, while the first held both"] = int("second" in got)
            got["first, next token"] = share.take()
            taken.wait(10)

    def second() -> None:
        holding.wait(10)
        with share.computing():
            got["second"] = share.take(wait=10)
            taken.set()

    _together(first, second)
    assert got == {
        "first, alone": 2,
        "second took, while the first held both": 0,
        "first, next token": 1,
        "second": 1,
    }


def test_the_wait_for_cores_is_bounded_and_more_threads_than_cores_take_one_each() -> None:
    share = CoreShare(2)
    holder = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with share.computing():
            share.take()
            holder.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    holder.wait(10)
    with share.computing():
        start = time.monotonic()
        assert share.take(wait=0.2) == 1  # the other never fits: shares after the bound
        assert 0.15 < time.monotonic() - start < 5
    release.set()
    t.join(10)

    many = CoreShare(2)
    results: list[int] = []
    ready = threading.Barrier(3)

    def one() -> None:
        with many.computing():
            ready.wait(10)
            results.append(many.take(wait=10))
            ready.wait(10)

    start = time.monotonic()
    _together(one, one, one)
    assert results == [1, 1, 1] and time.monotonic() - start < 5


def test_a_thread_above_rank_0_takes_at_most_its_even_share() -> None:
    share = CoreShare(2, model_threads=2)
    with share.computing():  # alone, so every core is free
        assert share.take(rank=1) == 1
        assert share.take(rank=0) == 2
    assert CoreShare(4, model_threads=2).even == 2 and CoreShare(3, model_threads=4).even == 1


def test_no_openmp_team_grows_past_the_cores_the_other_teams_leave() -> None:
    # libgomp counts the threads of every team (they stay when their thread stops
    # computing) and the process's first thread; beyond the cores, its threads barely
    # spin and every operation pays a sleep and a wake-up.
    share = CoreShare(4, model_threads=2)
    with share.computing():
        assert share.take(rank=1) == 2  # its even share: a team of two stays
        assert share.take(rank=0) == 3  # 1 + (2 - 1) + (3 - 1) = 4 threads
    other = CoreShare(4, model_threads=2)
    with other.computing():
        assert other.take(rank=0) == 4
        assert other.take(rank=1) == 1  # rank 0's team holds every core: no team at all
        assert other.take(rank=0) == 4  # one thread is no team: nothing stays
    small = CoreShare(2, model_threads=2)
    with small.computing():
        assert small.take(rank=0) == 2
        assert small.take(rank=1) == 1


def test_each_model_thread_keeps_its_own_share_of_torch_threads() -> None:
    torch = pytest.importorskip("torch")
    share = CoreShare(2)
    batcher = Batcher(max_batch_size=1, batch_timeout=0)
    first, second = (
        ModelThread(batcher, "unused.ckpt", accelerator="cpu", cores=share) for _ in range(2)
    )
    steps = [threading.Event() for _ in range(4)]
    seen: dict[str, int] = {}
    x = torch.randn(256, 256)

    def threads_now() -> int:
        torch.softmax(x @ x, -1)  # parallel operations, which read torch's thread count
        return int(torch.get_num_threads())

    def run_first() -> None:
        torch.get_num_threads()  # as ModelThread.run does before setting its own
        with share.computing():
            first.fit_threads()
            seen["alone"] = threads_now()
            steps[0].set()
            steps[1].wait(10)  # the second computes now
            first.fit_threads()  # between two tokens
            seen["first, both"] = threads_now()
            steps[2].set()
            steps[3].wait(10)  # the second is done
            first.fit_threads()
            seen["first, alone again"] = threads_now()

    def run_second() -> None:
        torch.get_num_threads()
        steps[0].wait(10)
        with share.computing():
            steps[1].set()
            second.fit_threads()  # once the first gives up its second core
            steps[2].wait(10)
            seen["second, both"] = threads_now()
        steps[3].set()

    _together(run_first, run_second)
    assert seen == {
        "alone": 2,
        "first, both": 1,
        "second, both": 1,
        "first, alone again": 2,
    }


def test_a_model_thread_above_rank_0_computing_alone_keeps_to_its_even_share() -> None:
    torch = pytest.importorskip("torch")
    share = CoreShare(2, model_threads=2)
    second = ModelThread(Batcher(), "unused.ckpt", accelerator="cpu", cores=share, rank=1)
    seen: list[int] = []

    def run() -> None:
        torch.get_num_threads()  # as ModelThread.run does before setting its own
        with share.computing():
            second.fit_threads()
            seen.append(int(torch.get_num_threads()))

    _together(run)
    assert seen == [1]
