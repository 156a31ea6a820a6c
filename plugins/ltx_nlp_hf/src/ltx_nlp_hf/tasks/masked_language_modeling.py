"""Masked language modelling (BERT-style): masked-token loss and perplexity.

Masking happens in the task rather than the collator, so the causal and the masked
task share one dataset. Training draws fresh masks every step; validation and test
draw them from a generator seeded by batch index, so every evaluation scores the
same masks and the numbers are comparable from epoch to epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ltx_core.errors import LtxError
from ltx_nlp_hf.config.predict import MaskedLanguageModelingPredictOptions
from ltx_nlp_hf.config.tasks import MaskedLanguageModelingConfig
from ltx_nlp_hf.handoff import LanguageModelingData
from ltx_nlp_hf.tasks.base import HFTask
from ltx_nlp_hf.tasks.language_modeling import perplexity

__all__ = ["MaskedLanguageModelingTask", "mask_tokens"]

IGNORE = -100


def mask_tokens(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None,
    *,
    special_ids: list[int],
    mask_id: int,
    vocab_size: int,
    probability: float,
    mask_prob: float = 0.8,
    random_prob: float = 0.1,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(inputs, labels)``: chosen positions are masked, randomised or kept.

    Labels are -100 everywhere but the chosen positions, so only those are scored.
    """
    device = input_ids.device
    labels = input_ids.clone()
    chance = torch.full(labels.shape, probability)
    never = torch.isin(input_ids.cpu(), torch.tensor(special_ids, dtype=input_ids.dtype))
    if attention_mask is not None:
        never |= attention_mask.cpu() == 0
    chance.masked_fill_(never, 0.0)
    chosen = torch.bernoulli(chance, generator=generator).bool()
    labels[~chosen.to(device)] = IGNORE
    inputs = input_ids.clone()
    draw = torch.rand(labels.shape, generator=generator)
    masked = chosen & (draw < mask_prob)
    randomised = chosen & (draw >= mask_prob) & (draw < mask_prob + random_prob)
    inputs[masked.to(device)] = mask_id
    random_words = torch.randint(vocab_size, labels.shape, generator=generator)
    inputs[randomised.to(device)] = random_words[randomised].to(device, input_ids.dtype)
    return inputs, labels


class MaskedLanguageModelingTask(HFTask):
    """Trains a masked-LM head; the rest of the chosen tokens are kept or randomised.

    Batch: ``input_ids`` and ``attention_mask`` (batch, tokens); the task masks them
    and makes the labels. Hand-off: :class:`~ltx_nlp_hf.handoff.LanguageModelingData`
    (``mask_token_id``, which must be set, ``special_token_ids``, never masked, and
    ``vocab_size``, where random replacements are drawn from).
    """

    config: MaskedLanguageModelingConfig
    handoff: LanguageModelingData
    head = "masked-lm"
    pipeline_task = "fill-mask"
    monitor = "val_loss"
    monitor_mode = "min"

    def __init__(
        self, config: MaskedLanguageModelingConfig, *, handoff: LanguageModelingData, **kwargs: Any
    ) -> None:
        super().__init__(config, handoff=handoff, **kwargs)
        mask_id = self.handoff.mask_token_id
        if mask_id is None:
            raise LtxError(
                "Masked language modelling needs a tokenizer with a mask token; this one has "
                "none (use a BERT-style model's tokenizer)."
            )
        self.mask_id = mask_id
        self.special_ids = list(self.handoff.special_token_ids)
        self.vocab_size = self.handoff.vocab_size

    def masked(self, batch: dict[str, Any], generator: torch.Generator | None) -> dict[str, Any]:
        inputs = self.model_inputs(batch)
        cfg = self.config
        inputs["input_ids"], inputs["labels"] = mask_tokens(
            inputs["input_ids"],
            inputs.get("attention_mask"),
            special_ids=self.special_ids,
            mask_id=self.mask_id,
            vocab_size=self.vocab_size,
            probability=cfg.mlm_probability,
            mask_prob=cfg.mask_replace_prob,
            random_prob=cfg.random_replace_prob,
            generator=generator,
        )
        return inputs

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        out = self.backbone(**self.masked(batch, None))
        self.log("train_loss", out.loss, prog_bar=True, batch_size=self._batch_size(batch))
        return out.loss

    def eval_step(self, stage: str, batch: dict[str, Any], batch_idx: int) -> Any:
        generator = torch.Generator().manual_seed(1_000_003 + batch_idx)
        inputs = self.masked(batch, generator)
        predicted = int((inputs["labels"] != IGNORE).sum())
        if predicted == 0:
            return None
        out = self.backbone(**inputs)
        self.log_loss(stage, out.loss, batch)
        return (float(out.loss) * predicted, predicted)

    def eval_metrics(self, stage: str, records: list[Any]) -> dict[str, float]:
        return perplexity(records)

    # -- prediction ------------------------------------------------------------------
    predict_options = MaskedLanguageModelingPredictOptions
    predict_input_doc = "a text with one or more mask tokens ([MASK] or <mask>)"

    def check_predict_inputs(self, raw: Sequence[Any]) -> list[Any]:
        tok = self._require_tokenizer()
        items = super().check_predict_inputs(raw)
        for i, text in enumerate(items):
            if tok.mask_token not in text.replace("<mask>", tok.mask_token):
                raise LtxError(f"Input {i} has no {tok.mask_token} (or <mask>) to fill.")
        return items

    def predict_batch(
        self, inputs: list[Any], options: MaskedLanguageModelingPredictOptions
    ) -> list[Any]:
        """The top candidates of every mask of each input."""
        tok = self._require_tokenizer()
        top_k = options.top_k or self.config.top_k
        texts = [t.replace("<mask>", tok.mask_token) for t in inputs]
        enc = self._encode(texts)
        logits = self.backbone(**self.model_inputs(enc)).logits
        results = []
        for i, text in enumerate(inputs):
            positions = (enc["input_ids"][i] == self.mask_id).nonzero().flatten().tolist()
            fills = []
            for pos in positions:
                probs = torch.softmax(logits[i, pos].float(), dim=-1)
                top = torch.topk(probs, k=min(top_k, probs.numel()))
                fills.append(
                    [
                        {"token": tok.decode([int(t)]).strip(), "score": round(float(p), 4)}
                        for p, t in zip(top.values, top.indices, strict=True)
                    ]
                )
            results.append({"input": text, "fills": fills})
        return results
