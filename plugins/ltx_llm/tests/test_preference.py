"""Preference tuning: pairs checked, DPO's cached reference equals computing it live,
the three losses, runs that end with their numbers, resume mid-epoch with the cache."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from ltx_llm.config import PreferenceDataConfig, PreferenceTaskConfig
from ltx_llm.preference import PreferenceTask, preference_loss
from ltx_llm.preference_data import PreferenceDataModule, render_pairs
from ltx_llm.rendering import resolve_template


@pytest.fixture
def pairs(chat_tokenizer: Any, samples: Path) -> PreferenceDataModule:
    folder = samples / "preference"
    dm = PreferenceDataModule(
        PreferenceDataConfig(
            train_file=str(folder / "train.jsonl"),
            validation_file=str(folder / "validation.jsonl"),
            test_file=str(folder / "test.jsonl"),
            batch_size=8,
            max_length=128,
            cache=False,
        ),
        tokenizer=copy.deepcopy(chat_tokenizer),
    )
    dm.setup("fit")
    return dm


def _task(model: Any, dm: PreferenceDataModule, **config: Any) -> PreferenceTask:
    return PreferenceTask(
        PreferenceTaskConfig(**config),
        backbone=copy.deepcopy(model).train(),
        handoff=dm.handoff(),
        tokenizer=dm.tokenizer,
    )


def test_only_the_answers_are_scored(chat_tokenizer: Any) -> None:
    cols, report = render_pairs(
        [
            {"prompt": "Say yes.", "chosen": "yes", "rejected": "no"},
            {"prompt": "x", "chosen": "y"},
        ],
        chat_tokenizer,
        template=resolve_template(chat_tokenizer, None),
        max_length=128,
    )
    assert report["examples"] == 1 and report["problems"] == {"format": 1}
    for key, answer in (("chosen", "yes"), ("rejected", "no")):
        ids, labels = cols[f"{key}_ids"][0], cols[f"{key}_labels"][0]
        scored = [t for t, lab in zip(ids, labels, strict=True) if lab != -100]
        assert chat_tokenizer.decode(scored) == f"{answer}<|im_end|>"


def test_cached_reference_equals_live_and_survives_training(
    tiny_llama: Any, pairs: PreferenceDataModule
) -> None:
    task = _task(tiny_llama, pairs, method="dpo", beta=0.1)
    task.cache_reference(pairs, ("train", "validation"))
    cached = task.reference.get("train")
    assert cached is not None and cached.shape == (len(pairs.splits["train"]), 2)
    batch = next(iter(pairs.loader("train")))
    with torch.no_grad():
        (live_c, live_r), _ = task._pair_logps(batch)
    ids = batch["example_id"]
    torch.testing.assert_close(cached[ids, 0], live_c, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(cached[ids, 1], live_r, rtol=1e-5, atol=1e-4)
    # At the start the policy is the reference: DPO's loss is log 2 exactly.
    loss, _ = task._step("train", batch)
    assert float(loss) == pytest.approx(math.log(2), abs=1e-4)
    optimizer = torch.optim.SGD(task.backbone.parameters(), lr=0.5)
    for _ in range(3):
        optimizer.zero_grad()
        task._step("train", batch)[0].backward()
        optimizer.step()
    # Training moved the policy, never the cache.
    assert torch.equal(task.reference.get("train"), cached)
    with torch.no_grad():
        (moved_c, _), _ = task._pair_logps(batch)
    assert not torch.allclose(moved_c, live_c)
    # The cache travels in the task's state (checkpoints, resume).
    state = task.state_dict()
    restored = _task(tiny_llama, pairs, method="dpo")
    restored.load_state_dict(state)
    assert torch.equal(restored.reference.get("train"), cached)


@pytest.mark.parametrize("method", ["dpo", "orpo", "simpo"])
def test_losses_prefer_the_chosen_answer(method: str) -> None:
    good = (torch.tensor([-1.0]), torch.tensor([-9.0]))
    bad = (torch.tensor([-9.0]), torch.tensor([-1.0]))
    counts = (torch.tensor([2]), torch.tensor([2]))
    ref = (torch.tensor([-5.0]), torch.tensor([-5.0])) if method == "dpo" else None
    kwargs = {"beta": 0.5, "gamma": 0.1, "orpo_lambda": 0.5}
    lg, mg = preference_loss(method, good, counts, ref, **kwargs)
    lb, mb = preference_loss(method, bad, counts, ref, **kwargs)
    assert float(lg) < float(lb) and float(mg) > 0 > float(mb)


@pytest.mark.parametrize("method", ["orpo", "simpo"])
def test_reference_free_methods_train(ltx_train: Any, method: str) -> None:
    run = ltx_train(
        "preference", "--backbone", "tiny-llama", "--max-steps", "2", f"task.method={method}",
        "dataset.batch_size=8", "task.test_generation=false", "task.export_hf=false",
    )  # fmt: skip
    metrics = run.summary().get("metrics", run.summary())
    assert "val_preference_accuracy" in metrics and "test_reward_margin" in metrics


def test_dpo_resumes_mid_epoch_with_its_cache(ltx_train: Any) -> None:
    args = ("--backbone", "tiny-llama", "dataset.batch_size=8", "task.test_generation=false",
            "task.export_hf=false")  # fmt: skip
    first = ltx_train("preference", *args, "--max-steps", "2")
    state = torch.load(first.checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    cache = state["reference._extra_state"]
    assert set(cache) == {"train", "validation", "test"}
    resumed = ltx_train("preference", *args, "--max-steps", "4", "--resume")
    summary = resumed.summary()
    assert summary["resumed_from_step"] == 2 and summary["global_step"] == 4
    after = torch.load(resumed.checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    # Reused, not recomputed from the trained weights.
    assert torch.equal(after["reference._extra_state"]["train"]["logps"], cache["train"]["logps"])
