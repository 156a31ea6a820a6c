"""ltx-serve: ``ltx serve``, an ltx checkpoint behind an HTTP server (FastAPI and
uvicorn, in one process).

``plugin`` registers the command (torch-free), ``command`` is its Typer front, ``server``
the app and the process, ``batching`` the queue requests are batched from, ``worker``
the model thread of each device, ``openai_chat`` OpenAI's chat completions.
"""

from __future__ import annotations

__version__ = "0.2.0"
