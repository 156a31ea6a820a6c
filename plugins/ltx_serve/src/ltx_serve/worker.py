"""The model side of ``ltx serve``: one thread per device owns that device's
:class:`~ltx_core.inference.predictor.Predictor` and runs the batches the batcher
(:mod:`ltx_serve.batching`) hands it.

A thread, not a process: requests reach the model without crossing a process or a
queue of pickles, and torch releases the GIL in its ops, so the event loop keeps
parsing requests while a batch computes. Each model thread is the only user of its
model: batches run one after another. Streamed chat answers that wait together are
generated together too, each client's pieces pushed as its row of the batch produces
them, and streams that arrive while such a batch runs join it between two tokens
instead of waiting for it to end (:meth:`ModelThread.streams`).

Requests with the same options share model calls; a request the task refuses while
predicting (its ``predict_batch`` raising ``LtxError`` for that request) fails alone
(:func:`predict_requests`).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from ltx_core.errors import LtxError
from ltx_serve.batching import Batcher, Job

__all__ = [
    "ChatStream",
    "CoreShare",
    "ModelThread",
    "PredictJob",
    "bound_openmp_spin",
    "cpu_cores",
    "predict_requests",
    "sentence",
    "torch_threads",
]


def sentence(text: object) -> str:
    """``text`` on one line, ending as a sentence does."""
    out = " ".join(str(text).split())
    return out if out.endswith((".", "?", "!")) else out + "."


@dataclass
class PredictJob:
    """A ``/predict`` request (or a plain chat completion): its inputs and raw options."""

    inputs: list[Any]
    options: dict[str, Any]
    #: An OpenAI chat completion: its one input is the messages, and its result is the
    #: answer with its token counts and finish reason (:meth:`ModelThread.chat_answer`).
    chat: bool = False


@dataclass
class ChatStream:
    """A streamed chat completion, batched with the other streams waiting with it; it
    pushes ``(kind, value)`` events from the model thread (``push`` must be
    thread-safe): ``("start", None)`` once the prompt is accepted, ``("piece", text)``
    as the answer is generated, then ``("end", {token counts, finish_reason})`` or
    ``("error", exception)``."""

    #: Its kind of job: streams are batched with streams only.
    kind = "stream"

    messages: list[dict[str, str]]
    options: dict[str, Any]
    push: Callable[[tuple[str, Any]], None]
    #: Set when nobody reads the stream any more (the client left).
    stop: threading.Event = field(default_factory=threading.Event)

    def end(self, prompt_tokens: int, completion_tokens: int, finish_reason: str) -> None:
        """Push the ``end`` event: the token counts and why the answer ended."""
        counts = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
        self.push(("end", {**counts, "finish_reason": finish_reason}))


@dataclass
class _Member:
    """A stream in a batch: its job, its parsed options, its prompt's length."""

    job: ChatStream
    options: Any
    prompt_tokens: int


def cpu_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def torch_threads(model_threads: int) -> int | None:
    """torch's intra-op threads for each model thread: the machine's cores shared among
    them (they are the only threads computing; the event loop only parses and answers),
    or ``None`` when the user chose (``OMP_NUM_THREADS``)."""
    if os.environ.get("OMP_NUM_THREADS"):
        return None
    return max(1, cpu_cores() // max(1, model_threads))


class CoreShare:
    """The CPU's cores, shared by the model threads that are computing at the moment.

    A model thread computing alone takes every core (``cores`` torch threads): one
    client is answered as fast as one model call can be. While several compute, each
    takes its share, ``cores // computing`` threads (at least one), fitted before each
    batch and between two tokens of a generation (:meth:`take`). So the model threads'
    OpenMP teams together are never larger than the machine: a team waits at a barrier
    after each operation for its slowest thread, and a thread that has to share a core
    with another team's (or, on a busy machine, with other work) keeps the whole team
    waiting. Measured on 2 cores beside one busy process per core, two model threads
    of one torch thread each served 16 clients 1.5-1.6x as fast as a plain FastAPI +
    ``transformers.pipeline`` app, one model thread of two 1.2-1.3x (see
    ``benchmarks/RESULTS.md``).

    A thread that starts computing while another still holds every core (in the middle
    of a forward pass, which no thread count can change) waits until that one fits its
    share at its next token or ends its batch: in a probe on two cores, a read of two
    prompts took 0.70 s with another model thread's torch thread beside its two, about
    twice what it takes alone.

    **The OpenMP teams that stay.** Each model thread's torch threads are an OpenMP team
    of its own, and a team's threads stay after its thread stops computing, until it
    next computes with a smaller team (computing with one thread uses no team at all).
    libgomp counts every thread of every team (and the process's first thread), and
    while there are more than the machine's cores its threads spin 100 times instead of
    ``GOMP_SPINCOUNT`` before they sleep: every operation then pays a sleep and a
    wake-up, for as long as the process runs. On two cores a lone client's requests
    took 15.2 ms at the median instead of one model thread's 12.8 (MiniLM) once the
    second model thread had computed alone. So the first model thread (rank 0, which takes a
    lone client's work) may use every core; a thread of a higher rank never more than
    its even share (``cores // model_threads``), and no thread more than the cores the
    other threads' teams leave (:meth:`take`).

    torch's thread count is the calling thread's own (OpenMP's and MKL's per-thread
    settings), so each model thread sets its own.
    """

    #: The longest a thread waits for the others to give up cores: a bound for a forward
    #: pass that runs long (a large batch of prompts), after which it shares the cores.
    WAIT_S = 1.0

    def __init__(self, cores: int, model_threads: int = 1) -> None:
        self.cores = max(1, cores)
        #: The most torch threads a model thread of rank 1 or more takes.
        self.even = max(1, self.cores // max(1, model_threads))
        self._computing = 0
        #: torch threads each computing model thread uses now (by thread identity).
        self._held: dict[int, int] = {}
        #: The size of each model thread's OpenMP team, which stays when it stops
        #: computing (the last count above one it took; by rank).
        self._teams: dict[int, int] = {}
        self._cond = threading.Condition()

    def threads(self) -> int:
        """torch threads for a model thread that is computing now."""
        return max(1, self.cores // max(1, self._computing))

    def take(self, wait: float | None = None, rank: int = 0) -> int:
        """The calling thread's torch threads until its next call: its share, once the
        other threads' leave room for it, or after ``wait`` seconds (:attr:`WAIT_S`)
        whether they do or not. A thread that calls this is between two model calls and
        uses no thread while it waits. ``rank``: the model thread's (above 0, at most
        its even share of the cores)."""
        me = threading.get_ident()
        deadline = time.monotonic() + (self.WAIT_S if wait is None else wait)
        with self._cond:
            before = self._held.pop(me, 0)
            while True:
                share = self._fit(rank)
                others = sum(self._held.values())
                left = deadline - time.monotonic()
                # More computing threads than cores: one torch thread each is the least.
                if others + share <= max(self.cores, self._computing) or left <= 0:
                    break
                self._cond.notify_all()  # what this thread held is free meanwhile
                self._cond.wait(left)
            self._held[me] = share
            if share > 1:
                self._teams[rank] = share
            if share < before:
                self._cond.notify_all()
            return share

    def _fit(self, rank: int) -> int:
        share = self.threads() if rank == 0 else min(self.threads(), self.even)
        # The other teams' threads (beside their own model thread) and the process's
        # first thread leave this room for this team (see the class's docstring).
        room = self.cores - sum(size - 1 for who, size in self._teams.items() if who != rank)
        return max(1, min(share, room))

    def busy(self) -> int:
        """How many model threads are computing now."""
        return self._computing

    @contextmanager
    def computing(self) -> Iterator[None]:
        """Count the calling model thread as computing while the block runs."""
        me = threading.get_ident()
        with self._cond:
            self._computing += 1
        try:
            yield
        finally:
            with self._cond:
                self._computing -= 1
                self._held.pop(me, None)
                self._cond.notify_all()


#: How long torch's OpenMP threads spin after a parallel region before they sleep, in
#: libgomp's iterations: about 0.2 ms on the 2-core benchmark VM (its default, 300000,
#: measured about 7 ms there).
OPENMP_SPIN = 10_000


def bound_openmp_spin() -> None:
    """Bound the spin of torch's OpenMP threads (libgomp's ``GOMP_SPINCOUNT``) unless the
    user chose (``GOMP_SPINCOUNT``, ``OMP_WAIT_POLICY``) or torch is loaded already (it
    is read when torch loads).

    libgomp's threads spin for milliseconds after each parallel region, waiting for the
    next. In a server that holds a core after every batch, which the event loop needs to
    answer and parse requests; and on a machine with other work, a thread spinning at a
    barrier keeps the core its partner is waiting for. A short spin still bridges the
    gaps between the operations of one forward pass; sleeping at once (``PASSIVE``)
    pays a wake-up at every operation. Measured on the 2-core VM beside other work, in
    one process each, a MiniLM classifier predicted one sentence in 13-47 ms with this
    bound, about 500 ms with the default spin, and 22-25 ms with passive threads, which
    cost about 10 ms per sentence where a core is free.
    """
    if "torch" in sys.modules:
        return
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return
    os.environ["GOMP_SPINCOUNT"] = str(OPENMP_SPIN)


def _options_key(options: Any) -> str:
    dump = getattr(options, "model_dump_json", None)
    return dump() if callable(dump) else json.dumps(options, sort_keys=True, default=str)


def predict_requests(predictor: Any, requests: Sequence[PredictJob]) -> list[Any]:
    """Every request's outputs (a list, in order), or the ``LtxError`` the task refused
    it with. Requests whose options are equal share model calls.

    A request the task refuses while predicting fails alone: its group is predicted
    again one request at a time, and only the request that fails gets the error; the
    others get their results.
    """
    results: list[Any] = [None] * len(requests)
    groups: dict[str, tuple[Any, list[int]]] = {}
    for i, request in enumerate(requests):
        try:
            options = predictor.parse_options(request.options)
        except LtxError as exc:  # checked on arrival already; kept for direct callers
            results[i] = exc
            continue
        groups.setdefault(_options_key(options), (options, []))[1].append(i)
    for options, members in groups.values():
        try:
            together = _predict_together(predictor, [requests[i] for i in members], options)
        except LtxError as exc:  # a task's late "no": find whose request it was
            if len(members) == 1:
                results[members[0]] = exc
                continue
            for i in members:
                try:
                    (results[i],) = _predict_together(predictor, [requests[i]], options)
                except LtxError as one:
                    results[i] = one
            continue
        for i, outputs in zip(members, together, strict=True):
            results[i] = outputs
    return results


def _predict_together(
    predictor: Any, requests: Sequence[PredictJob], options: Any
) -> list[list[Any]]:
    """Requests with the same options as one batch; each request's outputs, in order."""
    flat = [item for request in requests for item in request.inputs]
    outputs = predictor.predict(flat, options) if flat else []
    out, start = [], 0
    for request in requests:
        out.append(list(outputs[start : start + len(request.inputs)]))
        start += len(request.inputs)
    return out


class ModelThread(threading.Thread):
    """Loads the checkpoint on one device, then runs the batcher's batches on it until
    the batcher closes. :meth:`wait_loaded` is the loaded predictor (or the load's
    error, raised)."""

    def __init__(
        self,
        batcher: Batcher,
        ckpt: str,
        *,
        accelerator: str,
        device: int | None = None,
        precision: str | None = None,
        threads: int | None = None,
        cores: CoreShare | None = None,
        share: ModelThread | None = None,
        rank: int = 0,
    ) -> None:
        where = accelerator if device is None else f"{accelerator}:{device}"
        super().__init__(name=f"ltx-serve-model-{where}", daemon=True)
        self.batcher = batcher
        self.ckpt = ckpt
        self.accelerator = accelerator
        self.device = device
        self.precision = precision
        self.threads = threads
        #: The CPU's cores, shared with the other model threads: this thread's torch
        #: threads follow how many of them compute (instead of ``threads``).
        self.cores = cores
        self._threads_now = threads
        #: A model thread on the same device whose model this one shares (its weights,
        #: not its task: see ``Predictor.replica``) instead of loading its own.
        self.share = share
        #: Its rank among the model threads: idle, the lowest-ranked takes the next batch.
        self.rank = rank
        self.predictor: Any = None
        self.error: BaseException | None = None
        self.loaded = threading.Event()

    def run(self) -> None:
        try:
            import torch

            from ltx_core.inference.predictor import Predictor

            # torch sets a thread's own thread count at the thread's first parallel
            # operation, to the count last set by any thread; asked now, that happens
            # here, and the count set below stays this thread's (with two model threads
            # setting theirs, one would silently compute with the other's).
            torch.get_num_threads()
            if self.cores is not None:
                # Alone until another model thread computes; a thread of a higher rank
                # starts with no OpenMP team (its first batch fits its count).
                self._threads_now = self.cores.threads() if self.rank == 0 else 1
            if self._threads_now is not None:
                torch.set_num_threads(self._threads_now)
            if self.share is not None:
                predictor = self.share.wait_loaded().replica()
            else:
                predictor = Predictor.from_checkpoint(
                    self.ckpt,
                    accelerator=self.accelerator,
                    devices=[self.device] if self.device is not None else 1,
                    precision=self.precision,
                )
            # A batch the batcher formed is predicted in one call: the checkpoint's own
            # batch size is its training batch (8 for chat data), which would split a
            # batch of 16 requests into two model calls, one after the other.
            predictor.batch_size = max(predictor.batch_size, self.batcher.max_batch_size)
            with predictor.running():  # on its device now, not at the first request
                pass
            self.predictor = predictor
        except BaseException as exc:  # handed to the main thread, which reports it
            self.error = exc
            return
        finally:
            self.loaded.set()
        self.batcher.work(self.run_batch, self.rank)

    def wait_loaded(self) -> Any:
        """The loaded predictor, once it is; the load's error raised if it failed."""
        self.loaded.wait()
        if self.error is not None:
            raise self.error
        return self.predictor

    def run_batch(self, payloads: list[Any]) -> list[Any]:
        """One batch: ``/predict`` requests and plain chat completions, or streams."""
        import torch

        with self._computing():
            self.fit_threads()
            if all(isinstance(p, ChatStream) for p in payloads):
                self.streams(payloads)
                return [None] * len(payloads)
            with torch.inference_mode():
                results = predict_requests(self.predictor, payloads)
                for i, request in enumerate(payloads):
                    if request.chat and not isinstance(results[i], BaseException):
                        results[i] = self.chat_answer(request, results[i])
            return results

    def _computing(self) -> AbstractContextManager[None]:
        return self.cores.computing() if self.cores is not None else nullcontext()

    def fit_threads(self) -> None:
        """Set this thread's torch threads to its share of the cores now (with
        :attr:`cores`, waiting for another thread to give up the cores it holds beyond
        its share; setting them costs tens of microseconds, so only on a change)."""
        if self.cores is None:
            return
        threads = self.cores.take(rank=self.rank)
        if threads != self._threads_now:
            import torch

            torch.set_num_threads(threads)
            self._threads_now = threads

    # -- chat --------------------------------------------------------------------
    def chat_answer(self, request: PredictJob, outputs: list[Any]) -> dict[str, Any]:
        """A plain chat completion from the task's prediction for its messages: the
        answer, its token counts and finish reason (``length`` when ``max_tokens`` cut
        it, as the task reports)."""
        task = self.predictor.module
        options = self.predictor.parse_options(request.options)
        (messages,) = request.inputs
        (output,) = outputs
        if isinstance(output, dict) and isinstance(output.get("completion"), str):
            text = output["completion"]
        else:  # a chat task whose prediction is not a completion record: its stream
            with self.predictor.running():
                text = "".join(task.stream_chat(messages, options))
            output = {}
        completion = output.get("tokens")
        if not isinstance(completion, int):
            completion = self._count_tokens(text)
        return {
            "content": text,
            "prompt_tokens": self._prompt_tokens(messages, options),
            "completion_tokens": completion,
            "finish_reason": output.get("finish_reason") or self._finish(completion, options),
        }

    def streams(self, jobs: Sequence[ChatStream]) -> None:
        """Streamed chat completions, generated together (the task's ``stream_chats``),
        each job's pieces pushed as its row produces them; a row whose client has left
        stops. A task with ``stream_key(options)`` (what streams must share: how the next
        token is chosen) batches streams whose keys are equal, each with its own options,
        and streams queued meanwhile with the same key join the running batch between
        two tokens. Without it, streams whose options are equal are batched, with those
        options. A task without ``stream_chats`` streams them one after another (its
        ``stream_chat``)."""
        task = self.predictor.module
        keyed = callable(getattr(task, "stream_key", None))
        groups: dict[str, list[_Member]] = {}
        for job in jobs:
            try:
                member = self._member(job)
            except Exception as exc:  # this request's error; the others go on
                job.push(("error", exc))
                continue
            key = task.stream_key(member.options) if keyed else _options_key(member.options)
            groups.setdefault(key, []).append(member)
        for key, members in groups.items():
            if not callable(getattr(task, "stream_chats", None)):
                for member in members:
                    self._stream_alone(task, member)
            else:  # without a stream key, one options object for the batch
                self._stream_together(task, members, key if keyed else None)

    def _member(self, job: ChatStream) -> _Member:
        options = self.predictor.parse_options(job.options)
        return _Member(job, options, self._prompt_tokens(job.messages, options))  # checks it

    def _stream_together(self, task: Any, members: list[_Member], key: str | None) -> None:
        """One batched generation of ``members``. With a ``key``, streams waiting at the
        head of the queue with the same key join it between two tokens (up to the
        batcher's ``max_batch_size`` rows at once), each settled when the batch ends."""
        jobs = [m.job for m in members]
        joined: list[Job] = []
        for job in jobs:
            job.push(("start", None))

        def accept(payload: Any) -> bool:
            try:
                options = self.predictor.parse_options(payload.options)
                return bool(task.stream_key(options) == key)
            except Exception:  # its error is reported when its own batch runs
                return False

        def more(room: int) -> list[tuple[list[dict[str, str]], Any]]:
            came = []
            if self.cores is not None and self.cores.busy() > 1:
                # Another model thread computes beside this one, with its share of the
                # cores: the waiting streams are shared too, so neither thread reads
                # every newcomer's prompt on its part of the cores while the other
                # generates a single row.
                room = min(room, max(1, -(-self.batcher.queued // self.cores.busy())))
            for queued in self.batcher.take_more(ChatStream.kind, accept, room):
                joined.append(queued)
                try:
                    member = self._member(queued.payload)
                except Exception as exc:  # this request's error; the batch goes on
                    queued.payload.push(("error", exc))
                    continue
                member.job.push(("start", None))
                members.append(member)
                jobs.append(member.job)
                came.append((member.job.messages, member.options))
            return came

        def on_piece(row: int, text: str) -> None:
            if not jobs[row].stop.is_set():
                jobs[row].push(("piece", text))

        def stopped(row: int) -> bool:
            # Asked for every running row between two tokens: the model thread's regular
            # moment to follow the other model threads' comings and goings, as a
            # generation runs for seconds.
            self.fit_threads()
            return jobs[row].stop.is_set()

        joining: dict[str, Any] = {}
        if key is not None:
            joining = {"more": more, "max_rows": self.batcher.max_batch_size}
        try:
            with self.predictor.running():
                records = task.stream_chats(
                    [job.messages for job in jobs],
                    [m.options for m in members] if key is not None else members[0].options,
                    on_piece=on_piece,
                    stopped=stopped,
                    **joining,
                )
        except Exception as exc:  # the requests' error, not the model thread's end
            for job in jobs:
                job.push(("error", exc))
        else:
            for member, record in zip(members, records, strict=True):
                member.job.end(member.prompt_tokens, int(record["tokens"]), record["finish_reason"])
        finally:
            for queued in joined:  # the batcher settles the jobs it handed out only
                queued.settle(None)

    def _stream_alone(self, task: Any, member: _Member) -> None:
        job, options = member.job, member.options
        try:
            pieces: list[str] = []
            with self.predictor.running():
                pieces_of = task.stream_chat(job.messages, options)  # checks the prompt
                job.push(("start", None))
                # Read to the end even when the client has left: the generation may run
                # in a thread of the task's, and must be over before this model serves
                # the next batch.
                for piece in pieces_of:
                    pieces.append(piece)
                    if not job.stop.is_set():
                        job.push(("piece", piece))
            completion = self._count_tokens("".join(pieces))
            job.end(member.prompt_tokens, completion, self._finish(completion, options))
        except Exception as exc:  # the request's error, not the model thread's end
            job.push(("error", exc))

    def _prompt_tokens(self, messages: list[dict[str, str]], options: Any) -> int:
        prompt = getattr(self.predictor.module, "chat_prompt", None)
        return len(prompt(messages, options)) if callable(prompt) else 0

    def _count_tokens(self, text: str) -> int:
        tokenizer = getattr(self.predictor.module, "tokenizer", None)
        if tokenizer is None or not text:
            return 0
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    def _finish(self, completion_tokens: int, options: Any) -> str:
        """``length`` when the answer used all the tokens it was allowed, else ``stop``
        (what a stream, which reports no reason, can tell)."""
        settings = getattr(self.predictor.module, "decode_settings", None)
        limit = getattr(settings(options), "max_new_tokens", None) if callable(settings) else None
        return "length" if limit is not None and completion_tokens >= limit else "stop"
