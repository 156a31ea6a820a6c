"""``ltx chat``: the Typer command. Torch-free until it runs (``ltx --help`` imports
nothing heavier than this); :mod:`ltx_llm.chat` holds the session."""

from __future__ import annotations

from typing import Annotated

import typer

from ltx_core.cli.boundary import error_boundary
from ltx_core.errors import LtxError


@error_boundary
def chat(
    ckpt: Annotated[
        str | None, typer.Option("--ckpt", help="A chat checkpoint (.ckpt) of ltx train chat.")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Instead of --ckpt: a Hugging Face folder (e.g. RUN/artifacts/hf_model), a hub "
            "name, a .gguf file or smollm2-135m-instruct.",
        ),
    ] = None,
    system: Annotated[
        str | None, typer.Option("--system", help="The system message to start with.")
    ] = None,
    max_new_tokens: Annotated[
        int | None, typer.Option("--max-new-tokens", min=1, help="Longest answer in tokens.")
    ] = None,
    temperature: Annotated[
        float, typer.Option("--temperature", min=0.0, help="0: greedy; above 0: sample.")
    ] = 0.0,
    top_p: Annotated[
        float | None, typer.Option("--top-p", min=0.0, max=1.0, help="Nucleus sampling mass.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the sampling.")] = None,
) -> None:
    """Chat with a model in the terminal: answers stream as they are generated; /reset
    clears the history, /system TEXT sets the system message, /history shows it, /exit
    (or Ctrl-D) leaves."""
    if (ckpt is None) == (model is None):
        raise LtxError("Give the model to chat with: --ckpt CHECKPOINT or --model FOLDER_OR_NAME.")
    from ltx_llm.chat import ChatSession, load_chat_model

    loaded = load_chat_model(ckpt=ckpt, model=model)
    session = ChatSession(
        loaded,
        system=system,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_p=top_p,
        seed=seed,
    )
    session.run()
