"""LoRA on a chat model: train, resume, test and predict from the adapter checkpoint; the
export is the merged model, which transformers loads alone and which generates what
ltx predict does; DPO's reference is the base with the adapters off."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("peft")


@pytest.fixture
def base(tmp_path: Path, chat_tokenizer: Any, tiny_llama: Any) -> Path:
    folder = tmp_path / "base"
    tiny_llama.save_pretrained(folder)
    chat_tokenizer.save_pretrained(folder)
    return folder


def _args(base: Path) -> tuple[str, ...]:
    return ("--backbone", "hf-causal", f"backbone.pretrained_model_name_or_path={base}",
            "backbone.peft={method: lora, r: 4, alpha: 8, dropout: 0.0}",
            "dataset.max_length=160", "optimizer.lr=0.01", "task.generation.max_new_tokens=6")  # fmt: skip


def test_lora_sft_resume_test_predict_export(ltx_train: Any, ltx_cli: Any, base: Path) -> None:
    ltx_train("chat", *_args(base), "--max-steps", "2")
    resumed = ltx_train("chat", *_args(base), "--max-steps", "4", "--resume")
    assert resumed.summary()["resumed_from_step"] == 2
    ckpt = resumed.checkpoint
    tested = ltx_cli("test", "--ckpt", str(ckpt))
    assert tested.exit_code == 0, tested.output
    assert "test_exact_match" in tested.output
    predicted = ltx_cli("predict", "--ckpt", str(ckpt), "What is 7 plus 8?")
    assert predicted.exit_code == 0, predicted.output
    assert json.loads(predicted.stdout.strip().splitlines()[-1])["completion"]

    import torch
    import transformers

    from ltx_core.inference.loading import load_checkpoint

    export = resumed.dir / "artifacts" / "hf_model"
    note = json.loads((export / "ltx_export.json").read_text())
    assert note["peft"]["export"] == "merged"
    assert not (export / "adapter_config.json").exists()
    model = transformers.AutoModelForCausalLM.from_pretrained(export).eval()
    assert type(model).__name__ == "LlamaForCausalLM"
    # The merged export computes what its checkpoint's base + adapter computes (the one
    # the run tested, whose weights the export holds). Compared as logits: a random tiny
    # model's greedy text flips on float noise.
    task, _, _ = load_checkpoint(resumed.summary()["checkpoints"]["test_metrics_from"])
    ids = torch.tensor([[5, 17, 250, 31, 9, 400]])
    with torch.no_grad():
        torch.testing.assert_close(
            model(input_ids=ids).logits, task.backbone(input_ids=ids).logits, atol=1e-4, rtol=1e-4
        )
    out = transformers.pipeline("text-generation", model=str(export))(
        [{"role": "user", "content": "What is 7 plus 8?"}], max_new_tokens=6, do_sample=False
    )
    assert out[0]["generated_text"][-1]["role"] == "assistant"


def test_dpo_with_lora_caches_the_base_reference(ltx_train: Any, base: Path) -> None:
    import torch

    run = ltx_train("preference", *_args(base), "--max-steps", "2", "dataset.batch_size=8",
                    "task.test_generation=false", "task.export_hf=false")  # fmt: skip
    state = torch.load(run.checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    # The checkpoint holds the adapter, not the base weights, and the cached reference.
    assert any("lora_" in k for k in state)
    assert not any(k.endswith("embed_tokens.weight") for k in state)
    assert set(state["reference._extra_state"]) == {"train", "validation", "test"}


def test_qlora_is_refused_in_one_sentence_without_cuda(ltx_cli: Any, base: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: QLoRA runs (tests/test_gpu.py, gpu_check.sh)")
    result = ltx_cli("train", "chat", *_args(base), "backbone.load_in_4bit=true", "--max-steps", "1",
                     "--accelerator", "cpu")  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "needs a CUDA GPU" in result.output and "Traceback" not in result.output


@pytest.mark.gpu
def test_qlora_trains_on_a_gpu(ltx_train: Any, base: Path) -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    pytest.importorskip("bitsandbytes")
    run = ltx_train("chat", *_args(base), "backbone.load_in_4bit=true", "--max-steps", "3",
                    "task.export_hf=false", accelerator="gpu")  # fmt: skip
    assert run.summary()["global_step"] == 3
