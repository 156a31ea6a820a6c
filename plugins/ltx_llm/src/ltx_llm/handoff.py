"""What the chat datasets hand to the model: ltx-nlp-hf's tokenised hand-off plus the
chat template the conversations were rendered with.

The template is saved in every checkpoint with the hand-off, so ``ltx predict`` and
``ltx chat`` render prompts exactly as training did, whatever the tokenizer files say
later. Pydantic only, torch-free.
"""

from __future__ import annotations

from ltx_nlp_hf.handoff import TokenizedData
from pydantic import Field

__all__ = ["ChatData"]


class ChatData(TokenizedData):
    """The hand-off of conversation data (``ChatDataModule``)."""

    chat_template: str = Field(description="The Jinja chat template conversations render with.")
    end_of_turn: str = Field(description="The token that ends an assistant turn.")
    train_on_prompt: bool = Field(description="Whether prompt tokens were trained on too.")
