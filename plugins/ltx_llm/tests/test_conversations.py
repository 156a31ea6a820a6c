"""Every chat-data shape becomes the same messages; bad records get one sentence."""

from __future__ import annotations

import pytest
from ltx_llm.conversations import BadRecord, detect_shape, to_messages, to_preference

ANSWERED = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": "2+2?"},
    {"role": "assistant", "content": "4"},
]


def test_openai_messages_multi_turn() -> None:
    assert detect_shape({"messages": ANSWERED}) == "messages"
    assert to_messages({"messages": ANSWERED}) == ANSWERED


def test_sharegpt() -> None:
    record = {
        "conversations": [
            {"from": "system", "value": "Be brief."},
            {"from": "human", "value": "Hi"},
            {"from": "gpt", "value": "Hello."},
            {"from": "human", "value": "2+2?"},
            {"from": "gpt", "value": "4"},
        ]
    }
    assert detect_shape(record) == "sharegpt"
    assert to_messages(record) == ANSWERED


@pytest.mark.parametrize(
    ("record", "user"),
    [
        ({"instruction": "Add.", "input": "2 and 2", "output": "4"}, "Add.\n\n2 and 2"),
        ({"instruction": "Say four.", "input": "", "output": "4"}, "Say four."),
    ],
)
def test_alpaca(record: dict, user: str) -> None:
    assert detect_shape(record) == "alpaca"
    assert to_messages(record) == [
        {"role": "user", "content": user},
        {"role": "assistant", "content": "4"},
    ]


def test_prompt_completion_strings_and_lists() -> None:
    assert to_messages({"prompt": "2+2?", "completion": "4"}) == [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
    ]
    record = {"prompt": ANSWERED[:4], "completion": [ANSWERED[4]]}
    assert detect_shape(record) == "prompt-completion"
    assert to_messages(record) == ANSWERED


@pytest.mark.parametrize(
    ("record", "says"),
    [
        ({"text": "hello"}, "none of the chat shapes (its fields: text)"),
        ({"messages": [{"role": "user", "content": "Hi"}]}, "no assistant turn"),
        ({"messages": [{"role": "robot", "content": "Hi"}]}, "has the role 'robot'"),
        ({"messages": "Hi"}, "is not a list of messages"),
        ({"messages": [{"role": "user", "content": 3}]}, "is not text (int)"),
        (
            {
                "messages": [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": " "},
                ]
            },
            "assistant message 1 is empty",
        ),
        ({"conversations": [{"from": "alien", "value": "x"}]}, "from 'alien'"),
    ],
)
def test_bad_records_say_why_in_one_sentence(record: dict, says: str) -> None:
    with pytest.raises(BadRecord) as err:
        to_messages(record)
    assert says in str(err.value)
    assert "\n" not in str(err.value)


def test_preference_shapes() -> None:
    prompt, chosen, rejected = to_preference(
        {"prompt": "Sentiment of 'great'?", "chosen": "positive", "rejected": "negative"}
    )
    assert prompt == [{"role": "user", "content": "Sentiment of 'great'?"}]
    assert chosen == [{"role": "assistant", "content": "positive"}]
    assert rejected == [{"role": "assistant", "content": "negative"}]
    # Anthropic-HH style: full conversations sharing their turns before the last answer.
    shared = [{"role": "user", "content": "Hi"}]
    p, c, r = to_preference(
        {
            "chosen": [*shared, {"role": "assistant", "content": "Hello!"}],
            "rejected": [*shared, {"role": "assistant", "content": "Go away."}],
        }
    )
    assert p == shared and c[0]["content"] == "Hello!" and r[0]["content"] == "Go away."
    with pytest.raises(BadRecord, match="no 'rejected' field"):
        to_preference({"prompt": "x", "chosen": "y"})


def test_null_fields_of_a_mixed_table_count_as_absent() -> None:
    # A JSON lines file of several shapes read into columns: every record has every field.
    record = {"messages": None, "conversations": None, "instruction": "Say hi.", "input": None,
              "output": "Hi.", "prompt": None, "completion": None}  # fmt: skip
    assert detect_shape(record) == "alpaca"
    assert to_messages(record)[0] == {"role": "user", "content": "Say hi."}
