"""The model thread's streamed chat completions on their own: no HTTP, no model. A fake
chat task records its ``stream_chats`` calls and streams each answer word by word.

- streams with the same options are generated in one call, each job getting its own
  row's pieces, then its counts and finish reason;
- streams with other options go in a call of their own;
- a request the task refuses gets its error, the others their answers;
- a client that has left gets nothing more, and its row is told to stop;
- a task without ``stream_chats`` streams one request after another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ltx_serve.batching import Batcher
from ltx_serve.worker import ChatStream, ModelThread

from ltx_core.errors import LtxError


class Options(dict[str, Any]):
    """Parsed options: a dict the worker can key (it dumps them to JSON)."""


class Task:
    """A chat task whose answer to a message is its words reversed, streamed a word at a
    time; refuses a message 'bad'."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], dict[str, Any]]] = []
        self.stopped: list[int] = []

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
    ) -> list[dict[str, Any]]:
        self.calls.append(([m[-1]["content"] for m in inputs], dict(options)))
        answers = [m[-1]["content"].split()[::-1] for m in inputs]
        for step in range(max(len(a) for a in answers)):
            for row, words in enumerate(answers):
                if stopped(row):
                    self.stopped.append(row)
                    continue
                if step < len(words):
                    on_piece(row, (" " if step else "") + words[step])
        return [
            {"completion": " ".join(w), "tokens": len(w), "finish_reason": "stop"} for w in answers
        ]


class OneAtATime(Task):
    """A chat task with ``stream_chat`` only."""

    stream_chats = None  # type: ignore[assignment]

    def stream_chat(self, messages: list[dict[str, str]], options: Any) -> Iterator[str]:
        self.calls.append(([messages[-1]["content"]], dict(options)))
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


def _thread(task: Task) -> ModelThread:
    thread = ModelThread(Batcher(), "unused.ckpt", accelerator="cpu")
    thread.predictor = Predictor(task)
    return thread


def _job(text: str, events: list[tuple[str, Any]], **options: Any) -> ChatStream:
    return ChatStream([{"role": "user", "content": text}], options, events.append)


def _text(events: list[tuple[str, Any]]) -> str:
    return "".join(v for k, v in events if k == "piece")


def test_streams_with_the_same_options_are_generated_together() -> None:
    task = Task()
    events: list[list[tuple[str, Any]]] = [[], [], [], []]
    jobs = [
        _job("one two three", events[0], max_new_tokens=8),
        _job("a b", events[1], max_new_tokens=8),
        _job("x y z w", events[2], max_new_tokens=4),
        _job("p q", events[3], max_new_tokens=8),
    ]
    assert _thread(task).run_batch(jobs) == [None] * 4
    assert task.calls == [
        (["one two three", "a b", "p q"], {"max_new_tokens": 8}),
        (["x y z w"], {"max_new_tokens": 4}),
    ]
    assert [_text(e) for e in events] == ["three two one", "b a", "w z y x", "q p"]
    for e, prompt in zip(events, (3, 2, 4, 2), strict=True):
        assert e[0] == ("start", None) and e[-1][0] == "end"
        assert e[-1][1]["prompt_tokens"] == prompt and e[-1][1]["finish_reason"] == "stop"
    assert events[0][-1][1]["completion_tokens"] == 3


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
    assert task.calls == [(["still read here", "will not be read"], {})]


def test_a_task_without_stream_chats_streams_one_request_at_a_time() -> None:
    task = OneAtATime()
    events: list[list[tuple[str, Any]]] = [[], []]
    _thread(task).run_batch([_job("one two", events[0]), _job("three four", events[1])])
    assert task.calls == [(["one two"], {}), (["three four"], {})]
    assert [_text(e) for e in events] == ["two one", "four three"]
    assert all(e[-1][0] == "end" for e in events)
