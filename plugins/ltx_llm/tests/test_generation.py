"""Batched generation: left-padded prompts give what each gives alone, stop strings cut
the text, the length limit is reported, streaming computes as its caller does."""

from __future__ import annotations

from typing import Any

import pytest
from ltx_llm.generation import DecodeSettings, generate, stream
from ltx_llm.rendering import prompt_ids, resolve_template

QUESTIONS = ["Hi", "What is 2 plus 3? Think about it carefully.", "Name a colour."]


def _prompts(tok: Any) -> list[list[int]]:
    template = resolve_template(tok, None)
    return [prompt_ids(tok, [{"role": "user", "content": q}], template=template) for q in QUESTIONS]


def test_a_batch_gives_what_each_prompt_gives_alone(chat_tokenizer: Any, tiny_llama: Any) -> None:
    prompts = _prompts(chat_tokenizer)
    assert len({len(p) for p in prompts}) == len(prompts)  # different lengths: left padding
    settings = DecodeSettings(max_new_tokens=8)
    together = generate(tiny_llama, chat_tokenizer, prompts, settings)
    alone = [generate(tiny_llama, chat_tokenizer, [p], settings)[0] for p in prompts]
    assert [c.text for c in together] == [c.text for c in alone]
    assert all(c.finish_reason in ("stop", "length") and c.tokens <= 8 for c in together)


def test_stop_strings_cut_the_answer(chat_tokenizer: Any, tiny_llama: Any) -> None:
    prompt = _prompts(chat_tokenizer)[1]
    full = generate(tiny_llama, chat_tokenizer, [prompt], DecodeSettings(max_new_tokens=12))[0]
    assert full.finish_reason == "length" and len(full.text) > 4
    stop = full.text[3:5]
    cut = generate(
        tiny_llama, chat_tokenizer, [prompt], DecodeSettings(max_new_tokens=12, stop=(stop,))
    )[0]
    assert cut.text == full.text[: full.text.find(stop)]
    assert cut.finish_reason == "stop"


def test_sampling_is_reproducible_with_a_seed(chat_tokenizer: Any, tiny_llama: Any) -> None:
    prompt = _prompts(chat_tokenizer)[0]
    settings = DecodeSettings(max_new_tokens=8, temperature=1.0, seed=3)
    first = generate(tiny_llama, chat_tokenizer, [prompt], settings)[0].text
    again = generate(tiny_llama, chat_tokenizer, [prompt], settings)[0].text
    assert first == again


def test_streaming_keeps_the_callers_autocast(chat_tokenizer: Any, tiny_llama: Any) -> None:
    """The streamed answer is generated in another thread; under the caller's bf16 autocast
    (ltx predict and ltx serve) it computes in bf16 too, not silently in fp32."""
    import torch

    seen: list[torch.dtype] = []
    hook = tiny_llama.lm_head.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    try:
        prompt = _prompts(chat_tokenizer)[0]
        settings = DecodeSettings(max_new_tokens=3)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            "".join(stream(tiny_llama, chat_tokenizer, prompt, settings))
        assert seen and set(seen) == {torch.bfloat16}
        seen.clear()
        "".join(stream(tiny_llama, chat_tokenizer, prompt, settings))
        assert seen and set(seen) == {torch.float32}
    finally:
        hook.remove()


def test_a_streamed_batch_gives_each_answer_in_pieces(chat_tokenizer: Any, tiny_llama: Any) -> None:
    """Every row of one generate call streamed: the pieces of a row make its answer, the
    same answer, token count and reason as the batch read at the end."""
    prompts = _prompts(chat_tokenizer)
    settings = DecodeSettings(max_new_tokens=10)
    plain = generate(tiny_llama, chat_tokenizer, prompts, settings)
    pieces: dict[int, list[str]] = {i: [] for i in range(len(prompts))}
    streamed = generate(
        tiny_llama, chat_tokenizer, prompts, settings,
        on_piece=lambda i, text: pieces[i].append(text),
    )  # fmt: skip
    assert streamed == plain
    assert ["".join(pieces[i]) for i in range(len(prompts))] == [c.text for c in plain]
    assert max(len(p) for p in pieces.values()) > 1  # pieces, not the answer at the end


def test_a_stop_string_ends_its_row_and_is_never_streamed(
    chat_tokenizer: Any, tiny_llama: Any
) -> None:
    prompts = _prompts(chat_tokenizer)
    settings = DecodeSettings(max_new_tokens=12)
    full = generate(tiny_llama, chat_tokenizer, prompts, settings)
    target = max(range(len(prompts)), key=lambda i: len(full[i].text))
    stop = full[target].text[4:7]
    sent: dict[int, str] = {i: "" for i in range(len(prompts))}

    def on_piece(i: int, text: str) -> None:
        sent[i] += text

    cut = generate(
        tiny_llama, chat_tokenizer, prompts, DecodeSettings(max_new_tokens=12, stop=(stop,)),
        on_piece=on_piece,
    )  # fmt: skip
    expected = full[target].text[: full[target].text.find(stop)]
    assert cut[target].text == sent[target] == expected and stop not in sent[target]
    assert cut[target].finish_reason == "stop" and cut[target].tokens < full[target].tokens
    for i, c in enumerate(cut):  # the other rows went on (unless they hold the string too)
        if stop not in full[i].text:
            assert c == full[i] and sent[i] == full[i].text


def test_a_row_whose_reader_left_stops_and_the_others_go_on(
    chat_tokenizer: Any, tiny_llama: Any
) -> None:
    prompts = _prompts(chat_tokenizer)
    settings = DecodeSettings(max_new_tokens=10)
    full = generate(tiny_llama, chat_tokenizer, prompts, settings)
    seen: list[int] = []
    out = generate(
        tiny_llama, chat_tokenizer, prompts, settings,
        on_piece=lambda i, _: seen.append(i), stopped=lambda i: i == 0 and 0 in seen,
    )  # fmt: skip
    assert full[0].tokens > 3  # the tiny model would go on
    assert out[0].tokens <= 3 and out[1:] == full[1:]


def test_closing_a_stream_ends_its_generation(chat_tokenizer: Any, tiny_llama: Any) -> None:
    """A reader that stops after the first piece (a client that left): the model stops
    at the next token, not after all of max_new_tokens."""
    steps: list[int] = []
    hook = tiny_llama.lm_head.register_forward_hook(lambda *_: steps.append(1))
    try:
        prompt = _prompts(chat_tokenizer)[1]
        settings = DecodeSettings(max_new_tokens=40)
        full = generate(tiny_llama, chat_tokenizer, [prompt], settings)[0]
        assert full.tokens >= 10  # the tiny model goes on to the limit
        steps.clear()
        pieces = stream(tiny_llama, chat_tokenizer, prompt, settings)
        next(pieces)
        pieces.close()  # joins the generating thread
        assert len(steps) < 10, len(steps)
    finally:
        hook.remove()


@pytest.mark.parametrize("mode", ["cache-kept", "read-again", "lora-cache-kept"])
def test_prompts_that_arrive_meanwhile_join_the_running_batch(
    chat_tokenizer: Any, tiny_llama: Any, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Continuous batching: a prompt given by ``more`` after the batch started joins it
    at the next token, and gets its first piece long before the first row is finished;
    every answer is the one each prompt gives alone, greedy. The running rows keep their
    KV cache (only the new prompts are read: every forward pass over more than one token
    is one new prompt's); where the cache cannot be kept, they are read again. A LoRA
    model (a peft wrapper, whose ``forward`` does not name the cache) keeps it too."""
    from ltx_llm import generation

    keep_cache = mode != "read-again"
    if not keep_cache:
        monkeypatch.setattr(generation, "_mergeable", lambda cache: False)
    model, inner = tiny_llama, tiny_llama
    if mode.startswith("lora"):
        import copy

        from peft import LoraConfig, get_peft_model

        model = get_peft_model(
            copy.deepcopy(tiny_llama), LoraConfig(r=4, target_modules=["q_proj"])
        )
        inner = model.get_base_model()
    prompts = _prompts(chat_tokenizer)
    settings = DecodeSettings(max_new_tokens=10)
    alone = [generate(model, chat_tokenizer, [p], settings)[0] for p in prompts]
    assert alone[0].tokens == 10  # the first row runs to the limit
    order: list[tuple[int, str]] = []  # (row, piece) as they came
    waiting = [[(prompts[1], settings)], [], [(prompts[2], settings)]]  # one, none, one
    rooms: list[int] = []

    def more(room: int) -> list[tuple[list[int], DecodeSettings]]:
        rooms.append(room)
        return waiting.pop(0) if waiting else []

    reads: list[tuple[int, int]] = []  # (rows, tokens) of each forward pass
    hook = inner.register_forward_pre_hook(
        lambda m, args, kwargs: reads.append(tuple(kwargs["input_ids"].shape)),
        with_kwargs=True,
    )
    try:
        out = generate(
            model, chat_tokenizer, [prompts[0]], settings,
            on_piece=lambda i, text: order.append((i, text)), more=more, max_rows=3,
        )  # fmt: skip
    finally:
        hook.remove()
    assert out == alone
    assert ["".join(t for i, t in order if i == row) for row in range(3)] == [c.text for c in alone]
    first_of = {row: next(k for k, (i, _) in enumerate(order) if i == row) for row in (1, 2)}
    last_of_first = max(k for k, (i, _) in enumerate(order) if i == 0)
    assert first_of[1] < first_of[2] < last_of_first  # they did not wait for row 0
    assert rooms[:3] == [2, 1, 1]  # room left for rows, never more than max_rows
    long_reads = [r for r in reads if r[1] > 1]
    if keep_cache:
        assert long_reads == [
            (1, len(prompts[0])),
            (1, len(prompts[1]) - 1),
            (1, len(prompts[2]) - 1),
        ]
    else:  # the running rows' prompt and answer so far, with the new prompt
        assert [r[0] for r in long_reads] == [1, 2, 3]


def test_a_full_batch_takes_no_more_prompts(chat_tokenizer: Any, tiny_llama: Any) -> None:
    prompts = _prompts(chat_tokenizer)
    asked: list[int] = []

    def more(room: int) -> list[tuple[list[int], DecodeSettings]]:
        asked.append(room)
        return []

    generate(
        tiny_llama, chat_tokenizer, prompts[:2], DecodeSettings(max_new_tokens=4),
        on_piece=lambda i, t: None, more=more, max_rows=2,
    )  # fmt: skip
    assert asked == []  # never asked while the batch is full


def test_rows_of_one_batch_keep_their_own_limits_and_stop_strings(
    chat_tokenizer: Any, tiny_llama: Any
) -> None:
    prompts = _prompts(chat_tokenizer)
    full = generate(tiny_llama, chat_tokenizer, prompts, DecodeSettings(max_new_tokens=12))
    stop = full[2].text[3:5]
    each = [
        DecodeSettings(max_new_tokens=3),
        DecodeSettings(max_new_tokens=12),
        DecodeSettings(max_new_tokens=12, stop=(stop,)),
    ]
    together = generate(tiny_llama, chat_tokenizer, prompts, each)
    alone = [
        generate(tiny_llama, chat_tokenizer, [p], s)[0] for p, s in zip(prompts, each, strict=True)
    ]
    assert together == alone
    assert together[0].tokens == 3 and together[0].finish_reason == "length"
    assert together[2].text == full[2].text[: full[2].text.find(stop)]
    sampled = DecodeSettings(max_new_tokens=3, temperature=1.0)
    with pytest.raises(ValueError, match="sampled alike"):
        generate(tiny_llama, chat_tokenizer, prompts[:2], [each[0], sampled])


SYSTEM = "You are a careful assistant who answers every question in a few plain words."


def _system_prompts(tok: Any) -> list[list[int]]:
    template = resolve_template(tok, None)
    return [
        prompt_ids(
            tok,
            [{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}],
            template=template,
        )
        for q in QUESTIONS
    ]


def test_a_kept_prompt_start_gives_what_reading_each_whole_prompt_gives(
    chat_tokenizer: Any, tiny_llama: Any
) -> None:
    """``reuse_prefix``: the start the prompts share (the system prompt) is read once and
    kept; the prompts of later calls read only their rest, and every answer is the one
    reading the whole prompt gives: batched, streamed, and joining a running batch."""
    import copy

    from ltx_llm import generation

    model = copy.deepcopy(tiny_llama)  # a model of its own: the kept cache is per model
    prompts = _system_prompts(chat_tokenizer)
    shared = generation._shared_start(prompts)
    assert shared >= generation.PREFIX_MIN
    settings = DecodeSettings(max_new_tokens=8)
    whole = [generate(model, chat_tokenizer, [p], settings)[0] for p in prompts]
    reads: list[int] = []  # tokens of each forward pass over more than one token
    hook = model.register_forward_pre_hook(
        lambda m, args, kwargs: reads.append(kwargs["input_ids"].shape[1]), with_kwargs=True
    )
    try:
        first = generate(model, chat_tokenizer, prompts, settings, reuse_prefix=True)
        kept = generation._PREFIXES[model]
        batched = generate(model, chat_tokenizer, prompts[::-1], settings, reuse_prefix=True)
        pieces: list[tuple[int, str]] = []
        streamed = generate(
            model, chat_tokenizer, prompts, settings,
            on_piece=lambda i, t: pieces.append((i, t)), reuse_prefix=True,
        )  # fmt: skip
        waiting = [[(prompts[2], settings)]]
        joined = generate(
            model, chat_tokenizer, prompts[:2], settings, on_piece=lambda i, t: None,
            more=lambda room: waiting.pop(0) if waiting else [], max_rows=3, reuse_prefix=True,
        )  # fmt: skip
    finally:
        hook.remove()
    assert first == whole and batched == whole[::-1] and streamed == whole and joined == whole
    assert ["".join(t for i, t in pieces if i == row) for row in range(3)] == [
        c.text for c in whole
    ]
    assert kept.ids == tuple(prompts[0][:shared]) and generation._PREFIXES[model] is kept
    rests = [len(p) - shared - 1 for p in prompts]
    # Read once (with the first call), then only each prompt's rest (but its last token,
    # which generate reads): the batches' longest rest, the joining prompt's own.
    assert [r for r in reads if r > 1] == [shared, *[max(rests)] * 3, max(rests[:2]), rests[2]]


def test_a_prompt_start_is_kept_only_when_shared_and_read_again_for_other_weights(
    chat_tokenizer: Any, tiny_llama: Any
) -> None:
    import copy

    import torch
    from ltx_llm import generation

    model = copy.deepcopy(tiny_llama)
    prompts = _system_prompts(chat_tokenizer)
    settings = DecodeSettings(max_new_tokens=2)
    generate(model, chat_tokenizer, prompts[:1], settings, reuse_prefix=True)
    assert model not in generation._PREFIXES  # one prompt: nothing known to be shared yet
    generate(model, chat_tokenizer, prompts[1:2], settings, reuse_prefix=True)
    kept = generation._PREFIXES[model]  # shared with the last call's prompt
    other = _prompts(chat_tokenizer)  # no system prompt: another start
    assert generate(model, chat_tokenizer, other, settings, reuse_prefix=True) == generate(
        model, chat_tokenizer, other, settings
    )
    with torch.autocast("cpu", dtype=torch.bfloat16):  # computed otherwise: read again
        generate(model, chat_tokenizer, prompts, settings, reuse_prefix=True)
    again = generation._PREFIXES[model]
    assert again is not kept and again.state != kept.state
    assert kept.ids[: len(again.ids)] == again.ids
