"""The ``preference`` task: preference tuning on prompt/chosen/rejected pairs.

Methods (``task.method``):

- ``dpo`` (Rafailov et al., 2023): ``-log σ(β·((π_c − ref_c) − (π_r − ref_r)))`` with
  ``π``/``ref`` the summed log-probabilities of an answer under the policy and the
  reference model.
- ``orpo`` (Hong et al., 2024), reference-free: the chosen answer's NLL plus
  ``λ·−log σ(log odds_c − log odds_r)`` with odds from the mean token log-probability.
- ``simpo`` (Meng et al., 2024), reference-free: ``-log σ(β·(mean π_c − mean π_r) − γ)``.

The reference model's log-probabilities are computed once, before the first step, for
every split, with the weights training starts from (with LoRA: the base model, adapters
off, which is what LoRA starts as). They live in :class:`ReferenceCache`, a part of the
task's state: every checkpoint carries them, a resumed run reuses them, and no second
model is held in memory while training. Metrics: loss, reward margin and preference
accuracy (the share of pairs whose chosen answer wins) on validation and test; on the
test split the prompt's answer is also generated and scored against the chosen one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import nullcontext
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ltx_core.errors import LtxError
from ltx_llm.config import PreferenceTaskConfig
from ltx_llm.loss import answer_logps
from ltx_llm.metrics import answer_metrics
from ltx_llm.task import ChatTask

__all__ = ["PreferenceTask", "ReferenceCache", "preference_loss"]

log = logging.getLogger(__name__)
STAGE_SPLIT = {"train": "train", "val": "validation", "test": "test"}


def preference_loss(
    method: str,
    policy: tuple[torch.Tensor, torch.Tensor],
    counts: tuple[torch.Tensor, torch.Tensor],
    reference: tuple[torch.Tensor, torch.Tensor] | None,
    *,
    beta: float,
    gamma: float = 0.0,
    orpo_lambda: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loss per pair, reward margin per pair)`` for ``method``; ``policy`` and
    ``reference`` are the (chosen, rejected) summed log-probabilities."""
    pc, pr = policy
    nc, nr = (c.clamp(min=1).to(pc.dtype) for c in counts)
    if method == "dpo":
        assert reference is not None
        rc, rr = reference
        margin = beta * ((pc - rc) - (pr - rr))
        return -F.logsigmoid(margin), margin
    if method == "simpo":
        margin = beta * (pc / nc - pr / nr)
        return -F.logsigmoid(margin - gamma), margin
    # ORPO: log odds of the mean token probability; log1p(-exp(x)) is exact for x < 0.
    mc, mr = pc / nc, pr / nr
    log_odds = (mc - torch.log1p(-torch.exp(mc).clamp(max=1 - 1e-6))) - (
        mr - torch.log1p(-torch.exp(mr).clamp(max=1 - 1e-6))
    )
    return -mc - orpo_lambda * F.logsigmoid(log_odds), log_odds


class ReferenceCache(nn.Module):
    """The reference model's (chosen, rejected) log-probabilities of each split, by
    ``example_id``, with a digest of the pairs they belong to. Saved with the task's
    weights (``get_extra_state``): checkpoints carry them, a resume restores them."""

    def __init__(self) -> None:
        super().__init__()
        self.splits: dict[str, dict[str, Any]] = {}

    def get(self, split: str, digest: str | None = None) -> torch.Tensor | None:
        entry = self.splits.get(split)
        if entry is None or (digest is not None and entry["digest"] != digest):
            return None
        return entry["logps"]

    def put(self, split: str, digest: str, logps: torch.Tensor) -> None:
        self.splits[split] = {"digest": digest, "logps": logps.detach().float().cpu()}

    def get_extra_state(self) -> Any:
        return self.splits

    def set_extra_state(self, state: Any) -> None:
        self.splits = dict(state or {})


class PreferenceTask(ChatTask):
    """Preference tuning of a causal LM (DPO, ORPO, SimPO) on chosen/rejected pairs.

    Batch: the ``B`` chosen rows then the ``B`` rejected rows (``input_ids``,
    ``attention_mask``, ``labels`` with :data:`~ltx_llm.rendering.IGNORE` outside the
    answers), ``example_id`` per pair, and the prompt and chosen answer for generated
    answers. Hand-off: :class:`~ltx_llm.handoff.ChatData`.
    """

    config: PreferenceTaskConfig
    monitor = "val_loss"
    monitor_mode = "min"
    # The answers' log-probabilities are computed here from the logits: the model gets no
    # labels (its own loss would be a wasted pass over the vocabulary).
    non_model_keys: ClassVar[tuple[str, ...]] = (
        "prompt_ids",
        "prompt_mask",
        "reference",
        "example_id",
        "labels",
    )

    def __init__(self, config: PreferenceTaskConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.reference = ReferenceCache()

    @property
    def needs_reference(self) -> bool:
        return self.config.method == "dpo"

    # -- the reference log-probabilities, once ---------------------------------
    def on_fit_start(self) -> None:
        super().on_fit_start()
        if self.needs_reference:
            self.cache_reference(self.datamodule, ("train", "validation", "test"))

    def on_test_start(self) -> None:
        super().on_test_start()
        if self.needs_reference:
            self.cache_reference(self.datamodule, ("test",))

    @torch.no_grad()
    def cache_reference(self, datamodule: Any, splits: tuple[str, ...]) -> None:
        """Compute (or keep) the reference log-probabilities of ``splits``."""
        from ltx_nlp_hf.peft_support import is_peft

        from ltx_llm.preference_data import pairs_digest

        for split in splits:
            if split not in datamodule.splits:
                continue
            digest = pairs_digest(datamodule.splits[split])
            if self.reference.get(split, digest) is not None:
                continue
            if self.global_step > 0 and not is_peft(self.backbone):
                raise LtxError(
                    f"The reference log-probabilities of this {split} data are not in the "
                    "checkpoint, and the weights they come from are gone (the model was "
                    "fully fine-tuned); test on the data the run trained with, or use "
                    "task.method=simpo or orpo, which need no reference."
                )
            self.reference.put(split, digest, self._reference_logps(datamodule.loader(split)))
            log.info("Cached the reference log-probabilities of the %s data.", split)

    def _reference_logps(self, loader: Any) -> torch.Tensor:
        from ltx_nlp_hf.peft_support import is_peft

        was_training = self.backbone.training
        self.backbone.eval()
        rows: dict[int, tuple[float, float]] = {}
        # The running Trainer's precision, so the reference scores as the steps will.
        trainer = self.attached_trainer
        context = (
            trainer.precision_plugin.forward_context() if trainer is not None else nullcontext()
        )
        # With LoRA the reference is the base model: the adapters switched off.
        adapters_off = (
            self.backbone.disable_adapter()  # type: ignore[operator]
            if is_peft(self.backbone)
            else None
        )
        try:
            if adapters_off is not None:
                adapters_off.__enter__()
            with context:
                for batch in loader:
                    batch = {
                        k: v.to(self.device) if isinstance(v, torch.Tensor) else v
                        for k, v in batch.items()
                    }
                    (pc, pr), _ = self._pair_logps(batch)
                    for i, (c, r) in zip(
                        batch["example_id"].tolist(),
                        zip(pc.tolist(), pr.tolist(), strict=True),
                        strict=True,
                    ):
                        rows[int(i)] = (c, r)
        finally:
            if adapters_off is not None:
                adapters_off.__exit__(None, None, None)
            self.backbone.train(was_training)
        return torch.tensor([rows[i] for i in range(len(rows))], dtype=torch.float32)

    # -- steps -----------------------------------------------------------------------
    def _pair_logps(
        self, batch: Mapping[str, Any]
    ) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
        logps, counts = answer_logps(
            self.backbone, self.model_inputs(batch), batch["labels"], self.trained_logits
        )
        n = logps.shape[0] // 2
        return (logps[:n], logps[n:]), (counts[:n], counts[n:])

    def _step(self, stage: str, batch: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        policy, counts = self._pair_logps(batch)
        reference = None
        if self.needs_reference:
            cached = self.reference.get(STAGE_SPLIT[stage])
            if cached is None:
                raise LtxError(
                    f"No reference log-probabilities for the {STAGE_SPLIT[stage]} data; "
                    "they are computed when training starts."
                )
            rows = cached[batch["example_id"].cpu()].to(policy[0].device)
            reference = (rows[:, 0], rows[:, 1])
        cfg = self.config
        losses, margins = preference_loss(
            cfg.method,
            policy,
            counts,
            reference,
            beta=cfg.beta,
            gamma=cfg.gamma,
            orpo_lambda=cfg.orpo_lambda,
        )
        return losses.mean(), margins

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        loss, margins = self._step("train", batch)
        n = int(batch["example_id"].shape[0])
        self.log("train_loss", loss, prog_bar=True, batch_size=n)
        self.log("train_reward_margin", margins.mean(), batch_size=n)
        return loss

    def batch_stats(self, batch: Any) -> tuple[int, int | None]:
        return int(batch["example_id"].shape[0]), int(batch["attention_mask"].sum())

    def eval_step(self, stage: str, batch: dict[str, Any], batch_idx: int) -> Any:
        loss, margins = self._step(stage, batch)
        n = int(batch["example_id"].shape[0])
        self.log(f"{stage}_loss", loss, on_epoch=True, prog_bar=stage == "val", sync_dist=True,
                 batch_size=n)  # fmt: skip
        record: dict[str, Any] = {"margins": margins.float().cpu().tolist(), "pairs": []}
        if stage == "test" and self.config.test_generation:
            record["pairs"] = self._generated_answers(batch)
        return record

    def eval_metrics(self, stage: str, records: list[Any]) -> dict[str, float]:
        margins = [m for r in records for m in r["margins"]]
        out: dict[str, float] = {}
        if margins:
            out["reward_margin"] = sum(margins) / len(margins)
            out["preference_accuracy"] = sum(m > 0 for m in margins) / len(margins)
        pairs = [p for r in records for p in r["pairs"]]
        if pairs:
            out |= answer_metrics([p for p, _ in pairs], [g for _, g in pairs])
        return out
