"""``ltx chat`` in a real pseudo-terminal: answers stream, history accumulates, /reset and
/system work, Ctrl-D leaves; and the session's pieces on their own."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from ltx_core.cli.testing import ltx_command, ltx_process_env

ARGS = ("--backbone", "tiny-llama", "dataset.max_length=160", "dataset.batch_size=4",
        "task.generation.max_new_tokens=6", "--max-steps", "4")  # fmt: skip


class Terminal:
    """A process on a pseudo-terminal, read until what a test waits for appears."""

    def __init__(self, argv: list[str]) -> None:
        self.fd, child = pty.openpty()
        self.proc = subprocess.Popen(
            argv, stdin=child, stdout=child, stderr=child, env=ltx_process_env(), close_fds=True
        )
        os.close(child)
        self.seen = ""

    def read_until(self, marker: str, timeout: float = 120.0) -> str:
        start = len(self.seen)
        deadline = time.monotonic() + timeout
        while marker not in self.seen[start:]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {marker!r} within {timeout}s; got:\n{self.seen}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:  # the process ended and closed the terminal
                    data = b""
                if not data:
                    raise AssertionError(f"ended before {marker!r}; got:\n{self.seen}")
                self.seen += data.decode("utf-8", "replace").replace("\r\n", "\n")
        out = self.seen[start:]
        return out[: out.index(marker)]

    def send(self, line: str) -> None:
        os.write(self.fd, (line + "\n").encode())

    def close(self) -> int:
        os.write(self.fd, b"\x04")  # Ctrl-D: end of input
        code = self.proc.wait(timeout=60)
        os.close(self.fd)
        return code


def _history(term: Terminal) -> list[dict]:
    term.send("/history")
    text = term.read_until(">>> ")
    return json.loads(re.findall(r"^\[.*\]$", text, re.M)[-1])


def test_chat_in_a_pseudo_terminal(ltx_shared_run: Any, ltx_cli: Any) -> None:
    ckpt = ltx_shared_run("chat", *ARGS) / "checkpoints" / "last.ckpt"
    expected = ltx_cli("predict", "--ckpt", str(ckpt), "What is 2 plus 3?", "--set",
                       "max_new_tokens=5")  # fmt: skip
    assert expected.exit_code == 0, expected.output
    answer = json.loads(expected.stdout.strip().splitlines()[-1])["completion"]

    term = Terminal(ltx_command("chat", "--ckpt", str(ckpt), "--max-new-tokens", "5"))
    try:
        assert "/reset clears the history" in term.read_until(">>> ")
        term.send("What is 2 plus 3?")
        shown = term.read_until(">>> ")
        # The terminal echoes the line typed, then the answer streams out: the same greedy
        # answer ltx predict gives.
        assert shown.split("What is 2 plus 3?", 1)[1].strip() == answer.strip()
        term.send("And times 4?")
        term.read_until(">>> ")
        history = _history(term)
        assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
        assert history[2]["content"] == "And times 4?"
        term.send("/reset")
        assert "(history cleared)" in term.read_until(">>> ")
        assert _history(term) == []
        term.send("/system Be brief.")
        term.read_until(">>> ")
        term.send("Hi")
        term.read_until(">>> ")
        assert [m["role"] for m in _history(term)] == ["system", "user", "assistant"]
    finally:
        code = term.close()
    assert code == 0


def test_stream_pieces_add_up_to_the_batched_answer(chat_tokenizer: Any, tiny_llama: Any) -> None:
    from ltx_llm.generation import DecodeSettings, generate, stream
    from ltx_llm.rendering import prompt_ids, resolve_template

    ids = prompt_ids(
        chat_tokenizer,
        [{"role": "user", "content": "What is 2 plus 3?"}],
        template=resolve_template(chat_tokenizer, None),
    )
    settings = DecodeSettings(max_new_tokens=12)
    pieces = list(stream(tiny_llama, chat_tokenizer, ids, settings))
    whole = generate(tiny_llama, chat_tokenizer, [ids], settings)[0]
    assert "".join(pieces) == whole.text
    assert len(pieces) > 1  # it came piece by piece


def test_session_drops_the_oldest_turns_beyond_the_context(
    chat_tokenizer: Any, tiny_llama: Any
) -> None:
    from ltx_llm.chat import ChatModel, ChatSession
    from ltx_llm.rendering import resolve_template

    loaded = ChatModel(tiny_llama, chat_tokenizer, resolve_template(chat_tokenizer, None), "tiny")
    out = io.StringIO()
    session = ChatSession(loaded, max_new_tokens=4, input=io.StringIO(""), output=out)
    session.context = 120
    for _ in range(6):
        session.answer("Tell me about the sea and the sky.")
    assert len(session.history) < 12 and session.history[-2]["role"] == "user"


@pytest.mark.parametrize(
    ("args", "says"),
    [((), "--ckpt CHECKPOINT or --model"), (("--model", "/no/such/folder"), "does not exist")],
)
def test_bad_model_is_one_sentence(ltx_cli: Any, args: tuple[str, ...], says: str) -> None:
    result = ltx_cli("chat", *args)
    assert result.exit_code == 2, result.output
    assert says in result.output and "Traceback" not in result.output


def test_model_folder(tmp_path: Path, chat_tokenizer: Any, tiny_llama: Any, ltx_cli: Any) -> None:
    folder = tmp_path / "hf"
    tiny_llama.save_pretrained(folder)
    chat_tokenizer.save_pretrained(folder)
    result = ltx_cli("chat", "--model", str(folder), "--max-new-tokens", "3", input="Hi\n/exit\n")
    assert result.exit_code == 0, result.output
    assert "Chatting with" in result.output and result.output.count(">>> ") == 2
