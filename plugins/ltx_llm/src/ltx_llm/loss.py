"""Losses over trained tokens, from the logits of the trained tokens only.

A chat batch trains on a few tokens of each conversation (the assistant's answers; a
preference pair's answers), but a causal LM's ``forward`` computes logits at every
position: over SmolLM2's 49k vocabulary that is 3 GB per copy at batch 32 x 512, and a
loss makes several (the float copy, the log-softmax, their gradients), on top of the
output layer's compute for every token. :class:`TrainedLogits` runs the model's decoder,
picks the final hidden states of the positions that predict a trained token (row by row,
so packed rows gain as much as padded ones) and runs the output layer on those alone.

How a model computes its logits is checked once, on the first batch, before this is
trusted: the decoder and output layer must give what ``model(...)`` gives (a model that
scales or caps its logits after the output layer does not). Otherwise the logits of the
trained positions come from transformers' ``logits_to_keep`` (positions trained in any
row), or, for a model without it, every position's logits are computed as before.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from ltx_llm.rendering import IGNORE

__all__ = ["TrainedLogits", "answer_logps", "trained_token_loss"]

log = logging.getLogger(__name__)


class TrainedLogits:
    """``(logits [N, vocab], targets [N], rows [N])`` of the ``N`` trained tokens of a
    batch: the logits at the positions that predict them, the tokens, and their rows."""

    def __init__(self, mode: str | None = None) -> None:
        #: "hidden" (decoder + output layer on the trained tokens), "positions"
        #: (``logits_to_keep``) or "full"; chosen on the first batch unless given.
        self.mode = mode

    def __call__(
        self, model: Any, inputs: Mapping[str, Any], labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        targets = labels[:, 1:]
        trained = targets != IGNORE  # position t predicts token t + 1
        rows = trained.nonzero()[:, 0]
        # No KV cache in a training or scoring pass: it saves nothing there, and with one
        # transformers would not see packed rows' boundaries (it finds them from restarting
        # positions only when there is no cache and no attention mask).
        forward = {k: v for k, v in inputs.items() if k != "labels"} | {"use_cache": False}
        if self.mode is None:
            self.mode = _choose(model, forward)
        if self.mode == "hidden" and rows.numel():
            hidden = model.get_decoder()(**forward).last_hidden_state[:, :-1]
            return model.get_output_embeddings()(hidden[trained]), targets[trained], rows
        if self.mode == "positions" and rows.numel():
            positions = trained.any(dim=0).nonzero().squeeze(1)
            logits = model(**forward, logits_to_keep=positions).logits
            kept = trained[:, positions]
            return logits[kept], targets[:, positions][kept], rows
        logits = model(**forward).logits[:, :-1]
        return logits[trained], targets[trained], rows


def _choose(model: Any, forward: Mapping[str, Any]) -> str:
    """The cheapest way that gives this model's own logits (checked on one batch)."""
    keeps = "logits_to_keep" in forward_params(model)
    decoder = getattr(model, "get_decoder", None)
    head = getattr(model, "get_output_embeddings", None)
    if callable(decoder) and callable(head) and decoder() is not None and head() is not None:
        was_training = model.training
        model.eval()  # dropout would make the two passes differ
        try:
            with torch.no_grad():
                last = {"logits_to_keep": 1} if keeps else {}
                theirs = model(**forward, **last).logits[:, -1]
                ours = head()(decoder()(**forward).last_hidden_state[:, -1])
            if torch.allclose(ours.float(), theirs.float(), rtol=1e-2, atol=1e-2):
                return "hidden"
            log.info("%s transforms its logits after the output layer", type(model).__name__)
        except (TypeError, AttributeError) as exc:  # a decoder that wants other inputs
            log.info("Computing logits through the decoder failed (%s)", exc)
        finally:
            model.train(was_training)
    return "positions" if keeps else "full"


def forward_params(model: Any) -> set[str]:
    """The argument names of the model's own ``forward``: a peft wrapper's takes
    ``**kwargs`` and passes them on, so its base model's are the ones that count."""
    from ltx_nlp_hf.peft_support import base_model

    return set(inspect.signature(base_model(model).forward).parameters)


def trained_token_loss(
    model: Any, inputs: Mapping[str, Any], labels: torch.Tensor, logits: TrainedLogits
) -> torch.Tensor:
    """The mean next-token cross-entropy over the tokens whose label is not ``IGNORE``:
    what ``model(**inputs, labels=labels).loss`` gives."""
    scores, targets, _ = logits(model, inputs, labels)
    if targets.numel() == 0:  # nothing trained: what the model's own loss gives (NaN)
        return scores.sum() * float("nan")
    return F.cross_entropy(scores.float(), targets)


def answer_logps(
    model: Any, inputs: Mapping[str, Any], labels: torch.Tensor, logits: TrainedLogits
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row: the summed log-probability of its trained tokens, and their count."""
    scores, targets, rows = logits(model, inputs, labels)
    nll = F.cross_entropy(scores.float(), targets, reduction="none")
    sums = torch.zeros(labels.shape[0], dtype=nll.dtype, device=nll.device)
    return -sums.index_add(0, rows, nll), (labels[:, 1:] != IGNORE).sum(-1)
