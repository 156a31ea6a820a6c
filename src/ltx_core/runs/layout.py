"""The run directory contract: where a run writes, and the refusal to overwrite a run.

``config.yaml``, ``metrics.csv``, ``checkpoints/``, ``artifacts/`` and ``summary.json``. A
directory that already holds a run is refused unless resuming or told to
overwrite; files ltx did not write are never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from ltx_core.errors import LtxError

__all__ = ["ARTIFACTS", "RUN_DIR_ENV", "RUN_FILES", "prepare_run_dir", "write_json"]

#: Set by the launching process so DDP worker processes write into the same directory.
RUN_DIR_ENV = "LTX_RUN_DIR"
#: The folder for whatever a plugin writes (pictures, exports): the core owns the folder,
#: the plugin the names inside it.
ARTIFACTS = "artifacts"
RUN_FILES = (
    "config.yaml",
    "metrics.csv",
    "summary.json",
    "hparams.yaml",
    "checkpoints",
    "tensorboard",
    ARTIFACTS,
)


def _is_worker() -> bool:
    """A process of a multi-process run other than the first (Lightning, torchrun, SLURM)."""
    # srun starts every task itself and sets only SLURM's variables (no RANK).
    ranks = ("LOCAL_RANK", "RANK", "NODE_RANK", "SLURM_PROCID")
    return any(os.environ.get(var, "0") != "0" for var in ranks)


def prepare_run_dir(
    output_dir: str | None, task_name: str, *, resume: bool = False, overwrite: bool = False
) -> Path:
    """Choose and check the run directory (in a DDP worker: the one the launcher chose)."""
    if _is_worker():
        # The first process checked and created it; every other one writes beside it.
        chosen = os.environ.get(RUN_DIR_ENV) or output_dir
        if chosen is None:
            raise LtxError("A multi-process run started by torchrun or SLURM needs --output-dir.")
        Path(chosen).mkdir(parents=True, exist_ok=True)
        return Path(chosen)
    if output_dir is None:
        if resume:
            raise LtxError("--resume needs --output-dir naming the run to resume.")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = Path("runs") / f"{task_name}-{stamp}"
        n = 1
        while path.exists():
            n += 1
            path = Path("runs") / f"{task_name}-{stamp}-{n}"
    else:
        path = Path(output_dir)
    if path.exists() and not path.is_dir():
        raise LtxError(f"Output directory '{path}' is a file; choose another --output-dir.")
    ours = [name for name in RUN_FILES if (path / name).exists()]
    if ours and not (resume or overwrite):
        finished = (path / "summary.json").exists()
        what = "a finished run" if finished else "a run"
        raise LtxError(
            f"Output directory '{path}' already holds {what}; pass --resume to continue it, "
            f"--overwrite to replace it, or choose another --output-dir."
        )
    if resume and not (path / "checkpoints" / "last.ckpt").exists():
        raise LtxError(f"Nothing to resume in '{path}': it has no checkpoints/last.ckpt.")
    if overwrite and not resume:
        for name in ours:
            target = path / name
            shutil.rmtree(target) if target.is_dir() else target.unlink()
    path.mkdir(parents=True, exist_ok=True)
    os.environ[RUN_DIR_ENV] = str(path.resolve())
    return path


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically so a reader never sees half a file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)
