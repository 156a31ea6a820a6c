"""``backbone.peft``: LoRA (and peft's other methods by name) on the packaged MiniLM.

Only the adapter and the head train (the base weights are bit-identical to the
pretrained files after training), a checkpoint is a small fraction of a full one and
restores every weight exactly, resume / test / predict run from it, and the export is
the adapter in peft's format or the merged model, each giving the trained model's logits.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytorch_lightning as pl
import torch
from ltx_nlp_hf.catalogue import MINILM
from ltx_nlp_hf.hub import resolve_model_path

from ltx_core.config.resolve import resolve_config
from ltx_core.engine.build import build_datamodule, build_task, build_tokenizer, dataset_handoff
from ltx_core.inference.loading import load_checkpoint

SMALL = [
    "dataset.limit_train_samples=32",
    "dataset.limit_val_samples=8",
    "dataset.limit_test_samples=8",
    "dataset.max_length=24",
    "dataset.batch_size=8",
]


def _task(tmp_path: Path, *overrides: str) -> Any:
    resolved = resolve_config(
        "text-classification",
        dataset="sst2-sample",
        backbone="minilm",
        overrides=[*SMALL, f"output_dir={tmp_path / 'run'}", *overrides],
    )
    tokenizer = build_tokenizer(resolved)
    dm = build_datamodule(resolved, tokenizer)
    dm.prepare_data()
    dm.setup("fit")
    task = build_task(resolved, dataset_handoff(dm, resolved), tokenizer)
    return task, dm, resolved


def _fit(task: Any, dm: Any, steps: int) -> pl.Trainer:
    trainer = pl.Trainer(
        accelerator="cpu", max_steps=steps, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
        limit_val_batches=0,
    )  # fmt: skip
    trainer.fit(task, datamodule=dm)
    return trainer


def _pretrained() -> dict[str, torch.Tensor]:
    from transformers import AutoModel

    path, _ = resolve_model_path(MINILM, "model")
    return {k: v.clone() for k, v in AutoModel.from_pretrained(path).state_dict().items()}


def _logits(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return model(**batch).logits


def _check_exports(task: Any, tmp_path: Path) -> None:
    """The adapter (peft's format) and the merged model give the trained model's logits."""
    from ltx_nlp_hf.peft_support import save_export
    from peft import PeftModel
    from transformers import AutoConfig, AutoModelForSequenceClassification

    batch = task.tokenizer(["a great film", "dull and long"], return_tensors="pt", padding=True)
    batch = {k: v for k, v in batch.items() if k != "token_type_ids"}
    expected = _logits(task.backbone, batch)

    adapter, merged = tmp_path / "adapter", tmp_path / "merged"
    save_export(task.backbone, adapter, "adapter")
    save_export(task.backbone, merged, "merged")
    assert (adapter / "adapter_config.json").is_file()
    assert (adapter / "adapter_model.safetensors").stat().st_size < 2_000_000

    path, _ = resolve_model_path(MINILM, "model")
    head_config = AutoConfig.from_pretrained(adapter / "base_config.json")
    base = AutoModelForSequenceClassification.from_pretrained(path, config=head_config)
    loaded = PeftModel.from_pretrained(base, adapter)
    assert torch.allclose(_logits(loaded, batch), expected, atol=1e-5)

    plain = AutoModelForSequenceClassification.from_pretrained(merged)
    assert not any("lora" in k for k in plain.state_dict())
    assert torch.allclose(_logits(plain, batch), expected, atol=1e-4)


@pytest.mark.slow
def test_lora_trains_the_adapter_only_and_its_checkpoint_is_small_and_exact(
    tmp_path: Path,
) -> None:
    task, dm, _ = _task(tmp_path, "backbone.peft.method=lora", "optimizer.lr=1e-2")
    before = {k: v.clone() for k, v in task.state_dict().items()}
    trainable = {n for n, p in task.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or "modules_to_save" in n for n in trainable), trainable
    trainer = _fit(task, dm, steps=2)

    # The base model's weights are bit-identical to the pretrained files; the adapter moved.
    base = task.backbone.get_base_model().bert.state_dict()
    pretrained = _pretrained()
    frozen = [k for k in base if "lora_" not in k]
    assert len(frozen) > 50
    for key in frozen:
        plain = key.replace(".base_layer", "")
        assert torch.equal(base[key], pretrained[plain]), key
    after = task.state_dict()
    moved = [k for k in trainable if not torch.equal(before[k], after[k])]
    assert any("lora_B" in k for k in moved) and any("classifier" in k for k in moved), moved

    # The checkpoint: trainable weights and the head only, a small fraction of a full one.
    lora_ckpt = tmp_path / "lora.ckpt"
    trainer.save_checkpoint(lora_ckpt)
    full, full_dm, _ = _task(tmp_path / "full")
    full_trainer = _fit(full, full_dm, steps=1)
    full_ckpt = tmp_path / "full.ckpt"
    full_trainer.save_checkpoint(full_ckpt)
    ratio = lora_ckpt.stat().st_size / full_ckpt.stat().st_size
    assert ratio < 0.02, f"LoRA checkpoint is {ratio:.1%} of a full one"

    # Restored from the checkpoint alone (the base from its reference): every weight equal.
    module, _, _ = load_checkpoint(lora_ckpt)
    restored = module.state_dict()
    assert restored.keys() == after.keys()
    assert all(torch.equal(restored[k], after[k]) for k in after)
    _check_exports(task, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(("method", "weights"), [("ia3", "ia3_l"), ("loha", "hada_w")])
def test_other_peft_methods_work_by_name(method: str, weights: str, tmp_path: Path) -> None:
    task, dm, _ = _task(tmp_path, f"backbone.peft.method={method}")
    trainable = [n for n, p in task.named_parameters() if p.requires_grad]
    assert any(weights in n for n in trainable), trainable[:5]
    total = sum(p.numel() for p in task.parameters())
    assert sum(p.numel() for n, p in task.named_parameters() if n in trainable) < 0.05 * total
    _fit(task, dm, steps=1)
    assert task.trainer.global_step == 1


def test_an_unknown_method_is_a_user_error_listing_the_known_ones(tmp_path: Path) -> None:
    from ltx_core.errors import LtxError

    with pytest.raises(LtxError, match=r"unknown peft method 'lorra'; known: .*\blora\b"):
        _task(tmp_path, "backbone.peft.method=lorra")


def test_config_shows_the_peft_section_without_torch(tmp_path: Path) -> None:
    code = (
        "import sys, yaml; from ltx_core.config.resolve import resolve_config; "
        "r = resolve_config('text-classification', backbone='minilm', "
        "overrides=['backbone.peft.method=lora']); "
        "print(yaml.safe_dump(r.config.backbone.model_dump(mode='json')));"
        "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "NO-TORCH" in out.stdout
    assert "r: 8" in out.stdout and "target_modules: auto" in out.stdout
    assert "export: adapter" in out.stdout


@pytest.mark.slow
def test_a_lora_run_resumes_tests_and_predicts_from_its_checkpoint(
    tmp_path: Path, ltx_cli: Callable[..., Any]
) -> None:
    out = tmp_path / "run"
    args = [
        "train", "text-classification", "--dataset", "sst2-sample", "--backbone", "minilm",
        "backbone.peft.method=lora", "--max-steps", "2", "--output-dir", str(out),
        "trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false", *SMALL,
    ]  # fmt: skip
    first = ltx_cli(*args)
    assert first.exit_code == 0, first.output[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["trainable_params"] < 0.01 * summary["total_params"]
    ckpt = out / "checkpoints" / "last.ckpt"
    assert ckpt.stat().st_size < 3_000_000
    again = ltx_cli(*[a if a != "2" else "4" for a in args], "--resume")
    assert again.exit_code == 0, again.output[-3000:]
    resumed = json.loads((out / "summary.json").read_text())
    assert resumed["resumed_from_step"] == 2 and resumed["global_step"] == 4
    tested = ltx_cli("test", "--ckpt", str(ckpt))
    assert tested.exit_code == 0 and "test_acc" in tested.stdout, tested.output[-3000:]
    predicted = ltx_cli("predict", "--ckpt", str(ckpt), "a wonderful film")
    assert predicted.exit_code == 0, predicted.output[-3000:]
    assert json.loads(predicted.stdout.strip().splitlines()[-1])["label"] in (
        "positive",
        "negative",
    )
    export = json.loads((out / "artifacts" / "hf_model" / "ltx_export.json").read_text())
    assert export["peft"]["export"] == "adapter"


@pytest.mark.slow
def test_tokens_added_by_the_tokenizer_train_and_restore_under_lora(tmp_path: Path) -> None:
    """A tokenizer with a token the model never saw: its embedding row is new (resized),
    trains beside the adapter, and a rebuild from the small checkpoint is exact."""
    from transformers import AutoTokenizer

    path, _ = resolve_model_path(MINILM, "model")
    folder = tmp_path / "tokenizer"
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.add_special_tokens({"additional_special_tokens": ["[FILM]"]})
    tokenizer.save_pretrained(folder)
    task, dm, _ = _task(
        tmp_path,
        "backbone.peft.method=lora",
        f"tokenizer.pretrained_model_name_or_path={folder}",
        "optimizer.lr=1e-2",
    )
    assert task.backbone.get_base_model().config.vocab_size == len(tokenizer) == 30523
    trainable = {n for n, p in task.named_parameters() if p.requires_grad}
    assert any("trainable_tokens_delta" in n for n in trainable), sorted(trainable)[:5]
    trainer = _fit(task, dm, steps=2)
    ckpt = tmp_path / "lora.ckpt"
    trainer.save_checkpoint(ckpt)
    assert ckpt.stat().st_size < 3_000_000

    # A rebuild draws the new row again (from its fixed seed), whatever the global RNG holds.
    torch.manual_seed(1234)
    module, _, _ = load_checkpoint(ckpt)
    after, restored = task.state_dict(), module.state_dict()
    assert restored.keys() == after.keys()
    assert all(torch.equal(restored[k], after[k]) for k in after)
    batch = tokenizer(["[FILM] a great film"], return_tensors="pt")
    batch = {k: v for k, v in batch.items() if k != "token_type_ids"}
    assert torch.equal(_logits(module.backbone, batch), _logits(task.backbone, batch))


@pytest.mark.slow
def test_a_weight_average_with_lora_stays_small_resumes_and_tests_the_average(
    tmp_path: Path, ltx_cli: Callable[..., Any]
) -> None:
    out = tmp_path / "run"
    args = [
        "train", "text-classification", "--dataset", "sst2-sample", "--backbone", "minilm",
        "backbone.peft.method=lora", "trainer.ema_decay=0.5", "optimizer.lr=1e-2",
        "--max-steps", "2", "--output-dir", str(out), "task.export_hf=false",
        "trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false", *SMALL,
    ]  # fmt: skip
    first = ltx_cli(*args)
    assert first.exit_code == 0, first.output[-3000:]
    ckpt = out / "checkpoints" / "last.ckpt"
    # The average and the raw weights (for --resume) are both the trainable part only.
    saved = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert saved["state_dict"].keys() == saved["current_model_state"].keys()
    assert len(saved["state_dict"]) < 50 and ckpt.stat().st_size < 5_000_000
    differs = [
        k
        for k in saved["state_dict"]
        if not torch.equal(saved["state_dict"][k], saved["current_model_state"][k])
    ]
    assert differs, "the average should differ from the raw weights after two steps"

    again = ltx_cli(*[a if a != "2" else "4" for a in args], "--resume")
    assert again.exit_code == 0, again.output[-3000:]
    resumed = json.loads((out / "summary.json").read_text())
    assert resumed["resumed_from_step"] == 2 and resumed["global_step"] == 4
    # The run's own test scored the average in the checkpoint it tested, as ltx test does.
    tested_in_run = next(iter((out / "checkpoints").glob("best-*.ckpt")), ckpt)
    tested = ltx_cli("test", "--ckpt", str(tested_in_run), "--json")
    assert tested.exit_code == 0, tested.output[-3000:]
    scored = json.loads(tested.stdout)
    assert scored["test_loss"] == pytest.approx(resumed["metrics"]["test_loss"], rel=1e-5)
