"""Records of the common chat-data shapes, turned into one: a list of messages.

Shapes recognised in every record (the first that fits wins, so a file may mix them):

- OpenAI ``messages``: ``[{"role": "system"|"user"|"assistant", "content": str}, ...]``
- ShareGPT ``conversations``: ``[{"from": "system"|"human"|"gpt", "value": str}, ...]``
  (``user``/``assistant`` are accepted in ``from`` as well)
- Alpaca: ``instruction``, optional ``input``, ``output``
- prompt/completion pairs: ``prompt`` and ``completion``, each a string or a message list

Pure Python: no tokenizer, no torch. A record that fits no shape, or a conversation
that cannot be trained on (no assistant turn, empty content, unknown roles), raises
:class:`BadRecord` with one sentence; the data module counts these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "ROLES",
    "SHAPES",
    "BadRecord",
    "Message",
    "detect_shape",
    "to_messages",
    "to_preference",
]

Message = dict[str, str]
ROLES = ("system", "user", "assistant")
SHAPES = ("messages", "sharegpt", "alpaca", "prompt-completion")
_SHAREGPT_ROLES = {
    "system": "system",
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "bot": "assistant",
}


class BadRecord(ValueError):
    """A record that cannot become a conversation; its message is one sentence."""


def detect_shape(record: Mapping[str, Any]) -> str:
    """Which of :data:`SHAPES` a record has (``BadRecord`` if none).

    A field set to null counts as absent: a table of records of several shapes (a JSON
    lines file read into columns) fills each record's missing fields with nulls.
    """
    has = {k for k, v in record.items() if v is not None}
    if "messages" in has:
        return "messages"
    if "conversations" in has:
        return "sharegpt"
    if {"instruction", "output"} <= has:
        return "alpaca"
    if {"prompt", "completion"} <= has:
        return "prompt-completion"
    raise BadRecord(
        f"it has none of the chat shapes (its fields: {', '.join(sorted(has)) or 'none'}); "
        "use 'messages' (OpenAI), 'conversations' (ShareGPT), instruction/input/output "
        "(Alpaca) or prompt/completion"
    )


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise BadRecord(f"{where} is not text ({type(value).__name__})")
    return value


def _message_list(value: Any, where: str, role_key: str, text_key: str) -> list[Message]:
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise BadRecord(f"'{where}' is not a list of messages ({type(value).__name__})")
    out: list[Message] = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping) or role_key not in item or text_key not in item:
            raise BadRecord(
                f"message {i} of '{where}' is not an object with '{role_key}' and '{text_key}'"
            )
        role = str(item[role_key])
        if role_key == "from":
            if role.lower() not in _SHAREGPT_ROLES:
                raise BadRecord(
                    f"message {i} of '{where}' is from '{role}'; ShareGPT messages are from "
                    "system, human or gpt"
                )
            role = _SHAREGPT_ROLES[role.lower()]
        elif role not in ROLES:
            raise BadRecord(
                f"message {i} of '{where}' has the role '{role}'; the roles are {', '.join(ROLES)}"
            )
        out.append({"role": role, "content": _text(item[text_key], f"message {i}'s content")})
    return out


def _check(messages: list[Message], need_answer: bool) -> list[Message]:
    if not messages:
        raise BadRecord("the conversation is empty")
    for i, m in enumerate(messages):
        if m["role"] == "system" and i != 0:
            raise BadRecord(f"message {i} is a system message after the first")
    if need_answer and not any(m["role"] == "assistant" for m in messages):
        raise BadRecord("the conversation has no assistant turn to learn from")
    empty = next(
        (
            i
            for i, m in enumerate(messages)
            if m["role"] == "assistant" and not m["content"].strip()
        ),
        None,
    )
    if empty is not None:
        raise BadRecord(f"assistant message {empty} is empty")
    return messages


def _prompt_messages(value: Any, where: str) -> list[Message]:
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    return _message_list(value, where, "role", "content")


def _answer_messages(value: Any, where: str) -> list[Message]:
    if isinstance(value, str):
        return [{"role": "assistant", "content": value}]
    return _message_list(value, where, "role", "content")


def to_messages(record: Mapping[str, Any], *, need_answer: bool = True) -> list[Message]:
    """The record as a message list (``BadRecord`` with one sentence if it is not one)."""
    shape = detect_shape(record)
    if shape == "messages":
        messages = _message_list(record["messages"], "messages", "role", "content")
    elif shape == "sharegpt":
        messages = _message_list(record["conversations"], "conversations", "from", "value")
    elif shape == "alpaca":
        instruction = _text(record["instruction"], "'instruction'")
        extra = record.get("input") or ""
        user = (
            f"{instruction}\n\n{_text(extra, chr(39) + 'input' + chr(39))}"
            if extra
            else (instruction)
        )
        messages = []
        if isinstance(record.get("system"), str) and record["system"].strip():
            messages.append({"role": "system", "content": record["system"]})
        messages += [
            {"role": "user", "content": user},
            {"role": "assistant", "content": _text(record["output"], "'output'")},
        ]
    else:
        messages = _prompt_messages(record["prompt"], "prompt") + _answer_messages(
            record["completion"], "completion"
        )
    return _check(messages, need_answer)


def to_preference(
    record: Mapping[str, Any],
) -> tuple[list[Message], list[Message], list[Message]]:
    """``(prompt, chosen, rejected)`` message lists of a preference record.

    ``prompt`` is a string or a message list; ``chosen`` and ``rejected`` are strings (one
    assistant answer) or message lists (what follows the prompt). A record in the
    "implicit prompt" form (``chosen`` and ``rejected`` full conversations sharing their
    first turns, as in Anthropic's HH) is split at the last assistant turn.
    """
    missing = [k for k in ("chosen", "rejected") if k not in record]
    if missing:
        raise BadRecord(
            f"it has no '{missing[0]}' field (its fields: {', '.join(map(str, record))}); "
            "preference records have prompt, chosen and rejected"
        )
    if "prompt" in record:
        prompt = _check(_prompt_messages(record["prompt"], "prompt"), need_answer=False)
        chosen = _answer_messages(record["chosen"], "chosen")
        rejected = _answer_messages(record["rejected"], "rejected")
    else:
        full_c = _message_list(record["chosen"], "chosen", "role", "content")
        full_r = _message_list(record["rejected"], "rejected", "role", "content")
        cut = max((i for i, m in enumerate(full_c) if m["role"] == "assistant"), default=-1)
        if cut < 1 or full_c[:cut] != full_r[:cut]:
            raise BadRecord(
                "it has no 'prompt', and 'chosen' and 'rejected' do not share the turns "
                "before their last answer"
            )
        prompt, chosen, rejected = full_c[:cut], full_c[cut:], full_r[cut:]
    for name, answer in (("chosen", chosen), ("rejected", rejected)):
        if not answer or answer[0]["role"] != "assistant" or not answer[0]["content"].strip():
            raise BadRecord(f"'{name}' does not start with a non-empty assistant answer")
    if prompt[-1]["role"] == "assistant":
        raise BadRecord("the prompt ends with an assistant turn; it should end with the user's")
    return prompt, chosen, rejected
