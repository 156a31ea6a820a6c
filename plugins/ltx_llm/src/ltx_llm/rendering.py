"""A conversation rendered with its chat template, and which tokens the loss sees.

The masks are found from the template itself, whatever it is: for each assistant turn
``i`` the conversation up to ``i`` is rendered with the generation prompt, and up to
and including ``i``; the assistant's text lies between the two. The full rendering is
tokenised once with character offsets, and a turn's trained tokens are the tokens of
its text plus the one token that follows it, the end-of-turn token (``<|im_end|>``,
``<|eot_id|>``, ...). Every assistant turn of a multi-turn conversation is trained.

Each example is then checked (:class:`RenderProblem` with one sentence when it fails):
the template renders turns as prefixes of the whole; each answer's trained tokens decode
exactly to its text plus the end-of-turn token; at least one token is trained; and
truncation cuts no answer (the policy: a conversation longer than ``max_length`` keeps
its leading turns up to the last answer that fits whole, and one whose first answer does
not fit is refused).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ltx_core.errors import LtxError
from ltx_llm.conversations import Message

__all__ = [
    "IGNORE",
    "RenderProblem",
    "Rendered",
    "prompt_ids",
    "render",
    "resolve_template",
]

IGNORE = -100


class RenderProblem(ValueError):
    """An example that cannot be trained on as it is; the message is one sentence."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Rendered:
    """One conversation as the model sees it."""

    input_ids: list[int]
    #: Per token: whether the loss sees it.
    trained: list[bool]
    #: Token ranges ``[start, end)`` of each kept answer (its text and end-of-turn token).
    answers: list[tuple[int, int]] = field(default_factory=list)
    #: Whether the conversation was longer than ``max_length`` (and lost trailing turns).
    truncated: bool = False
    #: Answers left out by truncation.
    answers_cut: int = 0

    @property
    def labels(self) -> list[int]:
        """Token ids where trained, :data:`IGNORE` elsewhere."""
        return [t if keep else IGNORE for t, keep in zip(self.input_ids, self.trained, strict=True)]


def resolve_template(tokenizer: Any, template: str | None) -> str:
    """The template text: the user's (a string, or a file's contents), else the tokenizer's."""
    if template is not None:
        text = template.strip()
        maybe_path = Path(text).expanduser()
        if "{" not in text and maybe_path.suffix in (".jinja", ".j2", ".txt"):
            if not maybe_path.is_file():
                raise LtxError(f"The chat template file '{template}' does not exist.")
            return maybe_path.read_text(encoding="utf-8")
        return template
    own = getattr(tokenizer, "chat_template", None)
    if isinstance(own, dict):  # several named templates: the default one
        own = own.get("default")
    if not own:
        name = getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__
        raise LtxError(
            f"The tokenizer '{name}' has no chat template; give one with "
            "dataset.chat_template (a Jinja string or a .jinja file)."
        )
    return str(own)


def _text(tokenizer: Any, messages: Sequence[Message], template: str, generation: bool) -> str:
    if not messages:
        return ""
    return str(
        tokenizer.apply_chat_template(
            list(messages),
            chat_template=template,
            tokenize=False,
            add_generation_prompt=generation,
        )
    )


def _special_ids(tokenizer: Any) -> set[int]:
    ids = set(int(i) for i in tokenizer.all_special_ids)
    added = getattr(tokenizer, "added_tokens_decoder", {}) or {}
    ids.update(int(i) for i, tok in added.items() if getattr(tok, "special", False))
    return ids


def _answer_spans(
    tokenizer: Any, messages: Sequence[Message], template: str, full: str
) -> list[tuple[int, int]]:
    """Character spans of each assistant turn's text in ``full``."""
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prefix = _text(tokenizer, messages[:i], template, generation=True)
        through = _text(tokenizer, messages[: i + 1], template, generation=False)
        if not (through.startswith(prefix) and full.startswith(through)):
            raise RenderProblem(
                "template",
                "the chat template does not render a conversation's turns as prefixes of the "
                "whole (adding a turn changes earlier ones), so its answers cannot be located",
            )
        between = through[len(prefix) :]
        content = message["content"]
        at = between.find(content)
        if at < 0:  # templates that trim the content (Llama 3's | trim)
            content = content.strip()
            at = between.find(content)
        if at < 0:
            raise RenderProblem(
                "template",
                f"assistant turn {i}'s text is not in what the chat template renders for it",
            )
        start = len(prefix) + at
        spans.append((start, start + len(content)))
    return spans


def render(
    tokenizer: Any,
    messages: Sequence[Message],
    *,
    template: str,
    max_length: int,
    train_on_prompt: bool = False,
) -> Rendered:
    """Render, tokenise, mask and check one conversation (see the module docstring)."""
    full = _text(tokenizer, messages, template, generation=False)
    spans = _answer_spans(tokenizer, messages, template, full)
    enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    ids: list[int] = list(enc["input_ids"])
    offsets: list[tuple[int, int]] = [tuple(o) for o in enc["offset_mapping"]]
    specials = _special_ids(tokenizer)
    trained = [False] * len(ids)
    answers: list[tuple[int, int]] = []
    for n, (a, b) in enumerate(spans, start=1):
        inside = [k for k, (s, e) in enumerate(offsets) if s < b and e > a and e > s]
        if not inside:
            raise RenderProblem("empty", f"answer {n} has no tokens")
        end = inside[-1] + 1
        if end >= len(ids) or ids[end] not in specials:
            raise RenderProblem(
                "end-of-turn",
                f"answer {n} is not followed by a special end-of-turn token in the chat "
                "template's rendering, so the model would never learn to stop",
            )
        turn = list(range(inside[0], end + 1))
        expected = full[a:b] + tokenizer.convert_ids_to_tokens(ids[end])
        decoded = tokenizer.decode([ids[k] for k in turn], skip_special_tokens=False)
        if decoded != expected:
            raise RenderProblem(
                "mask",
                f"answer {n}'s trained tokens decode to {decoded[:60]!r}, not to its text and "
                f"end-of-turn token {expected[:60]!r} (a token straddles the answer's edge)",
            )
        for k in turn:
            trained[k] = True
        answers.append((turn[0], turn[-1] + 1))
    out = Rendered(ids, [True] * len(ids) if train_on_prompt else trained, answers)
    if len(ids) > max_length:
        fits = [ans for ans in answers if ans[1] <= max_length]
        if not fits:
            raise RenderProblem(
                "truncated",
                f"its first answer ends at token {answers[0][1]}, beyond max_length "
                f"{max_length}, so truncation would cut it away",
            )
        cut = fits[-1][1]
        out = Rendered(
            ids[:cut],
            out.trained[:cut],
            fits,
            truncated=True,
            answers_cut=len(answers) - len(fits),
        )
    if not any(out.trained):
        raise RenderProblem("no-answer", "it has no trained token")
    return out


def prompt_ids(tokenizer: Any, messages: Sequence[Message], *, template: str) -> list[int]:
    """The tokens of ``messages`` followed by the generation prompt (what to answer)."""
    text = _text(tokenizer, messages, template, generation=True)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])
