"""Batched generation: left-padded prompts give what each gives alone, stop strings cut
the text, the length limit is reported, streaming computes as its caller does."""

from __future__ import annotations

from typing import Any

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
