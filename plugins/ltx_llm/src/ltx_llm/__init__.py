"""ltx-llm: chat LLMs for ltx — supervised fine-tuning on conversations, generation and
chat, on ltx-nlp-hf's backbones, tokenizers and readers.

Importing the package is cheap; torch and transformers load only when a component is
built.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
