"""Score a model ltx did not train: ``ltx test TASK [selectors and overrides]``.

The run config is resolved exactly as ``ltx train`` resolves it, and the task is built
the way a fresh run builds it (tokenizer, dataset, hand-off, backbone, task), so a
backbone that loads pretrained weights — a Hugging Face folder or hub name, an exported
``hf_model/`` — is scored on the dataset's test split with the metrics training logs.
Nothing is trained. The task decides whether the built model can be scored at all
(:meth:`~ltx_core.task.LtxTask.prepare_evaluation`: random weights or labels other than
the data's are refused in one sentence), so the core knows no plugin by name.
"""

from __future__ import annotations

from typing import Any

from ltx_core.config.resolve import ResolvedConfig
from ltx_core.errors import LtxError

__all__ = ["evaluate"]


def evaluate(resolved: ResolvedConfig) -> dict[str, float]:
    """The test metrics of the model the config builds (no checkpoint, no training)."""
    import pytorch_lightning as pl

    from ltx_core.engine.build import build_datamodule, build_task, build_tokenizer, dataset_handoff
    from ltx_core.engine.training import check_accelerator, quiet_lightning
    from ltx_core.inference.loading import score_test_split

    quiet_lightning()
    cfg = resolved.config
    check_accelerator(cfg.trainer)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    tokenizer = build_tokenizer(resolved)
    datamodule = build_datamodule(resolved, tokenizer)
    datamodule.prepare_data()
    datamodule.setup("test")
    if not datamodule.has_test:
        raise LtxError(
            f"The dataset '{resolved.spec_name('dataset')}' has no test split to score on; "
            "give it test data (for files: dataset.test_file)."
        )
    handoff = dataset_handoff(datamodule, resolved)
    task: Any = build_task(resolved, handoff, tokenizer)
    task.prepare_evaluation()
    return score_test_split(task, datamodule, cfg.trainer, cfg.trainer.accelerator)
