"""The ``ltx chat`` session: a model, its tokenizer and template, a history, a loop.

The model comes from a chat checkpoint (rendered with the template its data was trained
with, which the checkpoint keeps) or from a Hugging Face folder or name (its tokenizer's
template). Each answer streams to the terminal as it is generated and joins the
history; when the history outgrows the model's context, the oldest turns after the
system message are dropped.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from ltx_core.errors import LtxError
from ltx_llm.conversations import Message
from ltx_llm.generation import DecodeSettings, stream
from ltx_llm.rendering import prompt_ids, resolve_template

__all__ = ["ChatModel", "ChatSession", "load_chat_model"]

HELP = "/reset clears the history, /system TEXT sets the system message, /history, /exit"


@dataclass
class ChatModel:
    """What a session chats with."""

    model: Any
    tokenizer: Any
    template: str
    name: str
    max_new_tokens: int = 256


def load_chat_model(*, ckpt: str | None = None, model: str | None = None) -> ChatModel:
    """From an ltx chat checkpoint, or a Hugging Face folder, hub name or GGUF file."""
    if ckpt is not None:
        from ltx_core.inference.loading import load_checkpoint

        module, _, _ = load_checkpoint(ckpt)
        if not hasattr(module.handoff, "chat_template"):
            raise LtxError(
                f"'{ckpt}' is a checkpoint of another task; ltx chat needs one of 'ltx train chat'."
            )
        return ChatModel(
            module.backbone.eval(),
            module.tokenizer,
            module.handoff.chat_template,
            ckpt,
            module.config.generation.max_new_tokens,
        )
    assert model is not None
    from ltx_nlp_hf.hub import hub_error, resolve_model_path
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path, local_only = resolve_model_path(model, "model")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local_only)
        lm = AutoModelForCausalLM.from_pretrained(path, local_files_only=local_only)
    except (OSError, ValueError) as exc:
        raise hub_error(model, "model", "--model", exc) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return ChatModel(lm.eval(), tokenizer, resolve_template(tokenizer, None), model)


class ChatSession:
    """The read-answer loop over ``input`` and ``output`` (the terminal by default)."""

    def __init__(
        self,
        loaded: ChatModel,
        *,
        system: str | None = None,
        max_new_tokens: int | None = None,
        temperature: float = 0.0,
        top_p: float | None = None,
        seed: int | None = None,
        input: TextIO | None = None,
        output: TextIO | None = None,
    ) -> None:
        self.loaded = loaded
        self.system = system
        self.history: list[Message] = []
        self.settings = DecodeSettings(
            max_new_tokens=max_new_tokens or loaded.max_new_tokens,
            temperature=temperature,
            top_p=top_p,
            seed=seed,
        )
        self.input = input
        self.output = output or sys.stdout
        config = getattr(loaded.model, "config", None)
        self.context = int(getattr(config, "max_position_embeddings", 0) or 2048)

    def messages(self) -> list[Message]:
        """The conversation so far, system message first."""
        head = [{"role": "system", "content": self.system}] if self.system else []
        return head + self.history

    def _read(self) -> str | None:
        try:
            if self.input is None:
                return input(">>> ")
            self.output.write(">>> ")
            self.output.flush()
            line = self.input.readline()
            return line.rstrip("\n") if line else None
        except EOFError:
            return None

    def _say(self, text: str) -> None:
        self.output.write(text)
        self.output.flush()

    def _prompt(self) -> list[int]:
        tok, template = self.loaded.tokenizer, self.loaded.template
        ids = prompt_ids(tok, self.messages(), template=template)
        # The oldest exchanges go first when the conversation outgrows the context.
        while len(ids) + self.settings.max_new_tokens > self.context and len(self.history) > 1:
            self.history = self.history[2:]
            ids = prompt_ids(tok, self.messages(), template=template)
        return ids

    def answer(self, text: str) -> str:
        """Add the user's ``text``, stream the answer out and add it too; return it."""
        self.history.append({"role": "user", "content": text})
        pieces = []
        for piece in stream(
            self.loaded.model, self.loaded.tokenizer, self._prompt(), self.settings
        ):
            pieces.append(piece)
            self._say(piece)
        self._say("\n")
        reply = "".join(pieces).strip()
        self.history.append({"role": "assistant", "content": reply})
        return reply

    def command(self, line: str) -> bool:
        """Handle a ``/command``; ``False`` ends the session."""
        name, _, rest = line.partition(" ")
        if name in ("/exit", "/quit"):
            return False
        if name == "/reset":
            self.history = []
            self._say("(history cleared)\n")
        elif name == "/system":
            self.system = rest.strip() or None
            self._say(f"(system message {'set' if self.system else 'removed'})\n")
        elif name == "/history":
            self._say(json.dumps(self.messages(), ensure_ascii=False) + "\n")
        else:
            self._say(f"(unknown command {name}; {HELP})\n")
        return True

    def run(self) -> None:
        """Chat until /exit or the end of input."""
        self._say(f"Chatting with {self.loaded.name} ({HELP}).\n")
        while True:
            line = self._read()
            if line is None:
                self._say("\n")
                return
            line = line.strip()
            if not line:
                continue
            if line.startswith("/"):
                if not self.command(line):
                    return
                continue
            self.answer(line)
