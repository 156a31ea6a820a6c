"""The CPU's model threads share its cores by how many compute at once: one alone takes
every core, two take half each, and each thread's torch thread count is its own (it
holds through torch's parallel operations, whatever another thread sets)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from ltx_serve.batching import Batcher
from ltx_serve.worker import CoreShare, ModelThread


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
            second.fit_threads()
            steps[1].set()
            steps[2].wait(10)
            seen["second, both"] = threads_now()
        steps[3].set()

    workers: list[Any] = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert seen == {
        "alone": 2,
        "first, both": 1,
        "second, both": 1,
        "first, alone again": 2,
    }
