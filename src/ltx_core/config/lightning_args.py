"""The installed Lightning Trainer's argument names, read without importing Lightning.

``ltx config`` must stay torch-free, yet the ``trainer`` section takes any argument of
the installed ``pytorch_lightning.Trainer``. Parsing ``Trainer.__init__``'s signature
from its source file with :mod:`ast` takes about 10 ms and follows whatever version is
installed, where a hand-kept list would drift.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

__all__ = ["RESERVED", "trainer_argument_names"]

#: Trainer arguments ltx sets itself, with what to use instead.
RESERVED = {
    "logger": "trainer.loggers (a list of {class_path, init_args}; metrics.csv always stays)",
    "default_root_dir": "--output-dir",
    "enable_checkpointing": "trainer.save_top_k and trainer.checkpoint_every_n_steps",
}


@functools.lru_cache(maxsize=1)
def trainer_argument_names() -> frozenset[str] | None:
    """Names of ``Trainer.__init__``'s parameters, or ``None`` when Lightning is absent."""
    spec = importlib.util.find_spec("pytorch_lightning")
    if spec is None or spec.origin is None:
        return None
    source = Path(spec.origin).parent / "trainer" / "trainer.py"
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Trainer":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    args = item.args
                    names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
                    return frozenset(n for n in names if n != "self")
    return None
