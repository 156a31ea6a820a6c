"""ltx-nlp-hf: Hugging Face NLP tasks for ltx.

Importing the package is cheap; the torch and transformers code lives in
:mod:`ltx_nlp_hf.tasks`, :mod:`ltx_nlp_hf.data`, :mod:`ltx_nlp_hf.backbones`
and :mod:`ltx_nlp_hf.tokenizers` and loads only when a component is built.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.2.1"
