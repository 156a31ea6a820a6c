"""The model thread's streamed chat completions on their own: no HTTP, no model. A fake
chat task records its ``stream_chats`` calls and streams each answer word by word.

- streams sampled alike (the task's ``stream_key``) are generated in one call, each
  with its own options, each job getting its own row's pieces, then its counts and
  finish reason; streams sampled otherwise go in a call of their own;
- without ``stream_key``, streams share a call when their options are equal;
- a request the task refuses gets its error, the others their answers;
- a client that has left gets nothing more, and its row is told to stop;
- a task without ``stream_chats`` streams one request after another;
- streams queued with the same key join a running batch (up to the batch size), and a
  job of another kind or key at the head of the queue stops the joining; while another
  model thread computes, a batch takes its share of the waiting streams at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ltx_serve.batching import Batcher
from ltx_serve.worker import ChatStream, CoreShare, ModelThread, PredictJob

from ltx_core.errors import LtxError


class Options(dict[str, Any]):
    """Parsed options: a dict the worker can key (it dumps them to JSON)."""


class Task:
    """A chat task whose answer to a message is its words reversed, streamed a word at a
    time; refuses a message 'bad'."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], dict[str, Any]]] = []
        self.stopped: list[int] = []
        self.joined: list[str] = []
        self.joins: list[int] = []  # how many joined at each join

    def chat_prompt(self, messages: list[dict[str, str]], options: Any) -> list[int]:
        if messages[-1]["content"] == "bad":
            raise LtxError("The last message is bad")
        return list(range(len(messages[-1]["content"].split())))

    def stream_chats(
        self,
        inputs: list[list[dict[str, str]]],
        options: Any,
        on_piece: Callable[[int, str], None],
        stopped: Callable[[int], bool],
        more: Callable[[int], list[tuple[list[dict[str, str]], Any]]] | None = None,
        max_rows: int | None = None,
    ) -> list[dict[str, Any]]:
        self.calls.append(([m[-1]["content"] for m in inputs], _plain(options)))
        answers = [m[-1]["content"].split()[::-1] for m in inputs]
        at = [0] * len(answers)  # each row's next word
        while any(k < len(a) for k, a in zip(at, answers, strict=True)):
            for row, words in enumerate(answers):
                if at[row] >= len(words):
                    continue
                if stopped(row):
                    self.stopped.append(row)
                    at[row] = len(words)
                    continue
                on_piece(row, (" " if at[row] else "") + words[at[row]])
                at[row] += 1
            running = sum(k < len(a) for k, a in zip(at, answers, strict=True))
            if more is not None and max_rows is not None and running and running < max_rows:
                came = more(max_rows - running)
                if came:
                    self.joins.append(len(came))
                for messages, _ in came:
                    self.joined.append(messages[-1]["content"])
                    answers.append(messages[-1]["content"].split()[::-1])
                    at.append(0)
        return [
            {"completion": " ".join(w), "tokens": len(w), "finish_reason": "stop"} for w in answers
        ]

    def stream_key(self, options: Any) -> str:
        """Streams sampled alike share a batch; their token limits may differ."""
        return str(options.get("temperature", 0))


class Fixed(Task):
    """A chat task without ``stream_key``: its batch shares one options object."""

    stream_key = None  # type: ignore[assignment]


def _plain(options: Any) -> Any:
    return [dict(o) for o in options] if isinstance(options, list) else dict(options)


class OneAtATime(Task):
    """A chat task with ``stream_chat`` only."""

    stream_chats = None  # type: ignore[assignment]

    def stream_chat(self, messages: list[dict[str, str]], options: Any) -> Iterator[str]:
        self.calls.append(([messages[-1]["content"]], _plain(options)))
        words = messages[-1]["content"].split()[::-1]
        return iter([(" " if i else "") + w for i, w in enumerate(words)])


class Predictor:
    def __init__(self, task: Task) -> None:
        self.module = task

    def parse_options(self, raw: Any) -> Options:
        return Options(raw or {})

    @contextmanager
    def running(self) -> Iterator[Task]:
        yield self.module


def _thread(task: Task, batcher: Batcher | None = None) -> ModelThread:
    thread = ModelThread(batcher or Batcher(), "unused.ckpt", accelerator="cpu")
    thread.predictor = Predictor(task)
    return thread


def _job(text: str, events: list[tuple[str, Any]], **options: Any) -> ChatStream:
    return ChatStream([{"role": "user", "content": text}], options, events.append)


def _text(events: list[tuple[str, Any]]) -> str:
    return "".join(v for k, v in events if k == "piece")


def test_streams_sampled_alike_are_generated_together_each_with_its_options() -> None:
    task = Task()
    events: list[list[tuple[str, Any]]] = [[], [], [], []]
    jobs = [
        _job("one two three", events[0], max_new_tokens=8),
        _job("a b", events[1], max_new_tokens=5),
        _job("x y z w", events[2], temperature=1),
        _job("p q", events[3]),
    ]
    assert _thread(task).run_batch(jobs) == [None] * 4
    assert task.calls == [
        (["one two three", "a b", "p q"], [{"max_new_tokens": 8}, {"max_new_tokens": 5}, {}]),
        (["x y z w"], [{"temperature": 1}]),
    ]
    assert [_text(e) for e in events] == ["three two one", "b a", "w z y x", "q p"]
    for e, prompt in zip(events, (3, 2, 4, 2), strict=True):
        assert e[0] == ("start", None) and e[-1][0] == "end"
        assert e[-1][1]["prompt_tokens"] == prompt and e[-1][1]["finish_reason"] == "stop"
    assert events[0][-1][1]["completion_tokens"] == 3


def test_without_stream_key_streams_with_equal_options_share_a_batch() -> None:
    task = Fixed()
    events: list[list[tuple[str, Any]]] = [[], [], []]
    jobs = [
        _job("one two", events[0], max_new_tokens=8),
        _job("a b", events[1], max_new_tokens=5),
        _job("p q", events[2], max_new_tokens=8),
    ]
    _thread(task).run_batch(jobs)
    assert task.calls == [
        (["one two", "p q"], {"max_new_tokens": 8}),
        (["a b"], {"max_new_tokens": 5}),
    ]
    assert [_text(e) for e in events] == ["two one", "b a", "q p"]


def test_a_refused_stream_fails_alone_and_a_departed_client_stops_its_row() -> None:
    task = Task()
    good: list[tuple[str, Any]] = []
    bad: list[tuple[str, Any]] = []
    left: list[tuple[str, Any]] = []
    gone = _job("will not be read", left)

    def push(event: tuple[str, Any]) -> None:
        left.append(event)
        if event[0] == "piece":
            gone.stop.set()  # the client leaves after its first piece

    gone.push = push
    _thread(task).run_batch([_job("still read here", good), _job("bad", bad), gone])
    assert [k for k, _ in bad] == ["error"] and "bad" in str(bad[0][1])
    assert _text(good) == "here read still"
    assert _text(left) == "read" and task.stopped and set(task.stopped) == {1}
    assert task.calls == [(["still read here", "will not be read"], [{}, {}])]


def test_a_task_without_stream_chats_streams_one_request_at_a_time() -> None:
    task = OneAtATime()
    events: list[list[tuple[str, Any]]] = [[], []]
    _thread(task).run_batch([_job("one two", events[0]), _job("three four", events[1])])
    assert task.calls == [(["one two"], {}), (["three four"], {})]
    assert [_text(e) for e in events] == ["two one", "four three"]
    assert all(e[-1][0] == "end" for e in events)


def test_streams_waiting_with_the_same_options_join_a_running_batch() -> None:
    task = Task()
    batcher = Batcher(max_batch_size=3)
    events: dict[str, list[tuple[str, Any]]] = {k: [] for k in "abcxde"}
    running = _job("one two three four", events["a"])
    queued = [
        _job("b1 b2", events["b"], max_new_tokens=2),  # its own limit: it joins
        _job("bad", events["x"]),  # refused when it joins; the batch goes on
        _job("c1 c2 c3", events["c"]),
        PredictJob(["not a stream"], {}),  # another kind: the joining stops here
        _job("e1", events["e"]),
    ]
    loop = asyncio.new_event_loop()
    try:

        async def submit() -> list[Any]:
            return [batcher.submit(p, kind=getattr(p, "kind", "predict")) for p in queued]

        jobs = loop.run_until_complete(submit())
        _thread(task, batcher).run_batch([running])
        loop.run_until_complete(asyncio.sleep(0))  # the settled futures resolve
    finally:
        loop.close()
    assert task.calls == [(["one two three four"], [{}])]
    assert task.joined == ["b1 b2", "c1 c2 c3"]  # 'bad' taken but refused: one row left
    assert [_text(events[k]) for k in "abc"] == ["four three two one", "b2 b1", "c3 c2 c1"]
    for k in "abc":
        assert events[k][0] == ("start", None) and events[k][-1][0] == "end"
    assert [k for k, _ in events["x"]] == ["error"]
    # b, x and c are settled; the prediction and the stream behind it wait their turn.
    assert [j.future.done() for j in jobs] == [True, True, True, False, False]
    assert batcher.queued == 2 and events["e"] == []


def test_streams_sampled_otherwise_do_not_join() -> None:
    task = Task()
    batcher = Batcher(max_batch_size=4)
    events: list[list[tuple[str, Any]]] = [[], []]
    loop = asyncio.new_event_loop()
    try:

        async def submit() -> Any:
            return batcher.submit(_job("p q", events[1], temperature=1), kind="stream")

        loop.run_until_complete(submit())
        _thread(task, batcher).run_batch([_job("one two three", events[0])])
    finally:
        loop.close()
    assert task.joined == [] and batcher.queued == 1 and events[1] == []


def test_beside_another_computing_model_thread_a_batch_takes_its_share_of_newcomers() -> None:
    task = Task()
    batcher = Batcher(max_batch_size=8)
    events: list[list[tuple[str, Any]]] = [[] for _ in range(6)]
    share = CoreShare(2)
    thread = ModelThread(batcher, "unused.ckpt", accelerator="cpu", cores=share)
    thread.predictor = Predictor(task)
    loop = asyncio.new_event_loop()
    try:

        async def submit() -> None:
            for i in range(1, 6):
                batcher.submit(_job(f"w{i} x y z", events[i]), kind="stream")

        loop.run_until_complete(submit())
        with share.computing():  # the other model thread, generating meanwhile
            thread.run_batch([_job("one two three four five six", events[0])])
    finally:
        loop.close()
    # Five waiting, two computing: three join (the other thread would take the rest
    # at its next token), then one of the two left, then the last.
    assert task.joins == [3, 1, 1]
    assert all(_text(events[i]) == f"z y x w{i}" for i in range(1, 6))
