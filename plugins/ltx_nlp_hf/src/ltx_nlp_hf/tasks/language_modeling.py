"""Causal language modelling: next-token loss and perplexity; ``ltx predict`` generates."""

from __future__ import annotations

import math
from typing import Any

import torch

from ltx_nlp_hf.config.predict import GenerationPredictOptions
from ltx_nlp_hf.config.tasks import LanguageModelingConfig
from ltx_nlp_hf.handoff import LanguageModelingData
from ltx_nlp_hf.tasks.base import HFTask, generation_settings

__all__ = ["LanguageModelingTask", "perplexity"]

IGNORE = -100


def perplexity(records: list[tuple[float, int]]) -> dict[str, float]:
    """Token-weighted mean loss over a split, and its exponential."""
    total = sum(loss for loss, _ in records)
    count = sum(n for _, n in records)
    if count == 0:
        return {}
    mean = total / count
    return {"token_loss": mean, "perplexity": math.exp(min(mean, 700.0))}


class LanguageModelingTask(HFTask):
    """Trains a causal LM head on blocks of text.

    Batch: ``input_ids`` and ``attention_mask`` (batch, tokens); the labels are the
    inputs (the model shifts them), padding left out. Hand-off:
    :class:`~ltx_nlp_hf.handoff.LanguageModelingData`.
    """

    config: LanguageModelingConfig
    handoff: LanguageModelingData
    head = "causal-lm"
    pipeline_task = "text-generation"
    monitor = "val_loss"
    monitor_mode = "min"

    def with_labels(self, batch: dict[str, Any]) -> dict[str, Any]:
        """The model shifts labels itself; padding must not be predicted."""
        inputs = self.model_inputs(batch)
        labels = inputs["input_ids"].clone()
        if "attention_mask" in inputs:
            labels[inputs["attention_mask"] == 0] = IGNORE
        inputs["labels"] = labels
        return inputs

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        out = self.backbone(**self.with_labels(batch))
        self.log("train_loss", out.loss, prog_bar=True, batch_size=self._batch_size(batch))
        return out.loss

    def eval_step(self, stage: str, batch: dict[str, Any], batch_idx: int) -> Any:
        inputs = self.with_labels(batch)
        out = self.backbone(**inputs)
        self.log_loss(stage, out.loss, batch)
        predicted = int((inputs["labels"][:, 1:] != IGNORE).sum())
        return (float(out.loss) * predicted, predicted)

    def eval_metrics(self, stage: str, records: list[Any]) -> dict[str, float]:
        return perplexity(records)

    # -- prediction ------------------------------------------------------------------
    predict_options = GenerationPredictOptions
    predict_input_doc = "a prompt to continue"

    def predict_batch(self, inputs: list[Any], options: GenerationPredictOptions) -> list[Any]:
        """Continue each prompt (one at a time: no padding, so no left/right pitfalls)."""
        tok = self._require_tokenizer()
        kwargs = generation_settings(self.config.generation, options)
        if options.seed is not None:
            torch.manual_seed(options.seed)
        results = []
        for prompt in inputs:
            enc = tok(prompt, return_tensors="pt", add_special_tokens=False)
            if enc["input_ids"].shape[1] == 0:
                enc = tok(prompt or " ", return_tensors="pt")
            enc = {k: v.to(self.device) for k, v in enc.items() if k != "token_type_ids"}
            generated = self._generate_ids(**enc, pad_token_id=tok.pad_token_id, **kwargs)
            new = generated[0, enc["input_ids"].shape[1] :]
            results.append(
                {"prompt": prompt, "generated": tok.decode(new, skip_special_tokens=True)}
            )
        return results
