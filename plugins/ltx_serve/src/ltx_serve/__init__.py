"""ltx-serve: ``ltx serve``, an ltx checkpoint behind an HTTP server (LitServe).

``plugin`` registers the command (torch-free), ``command`` is its Typer front, ``server``
the LitServe API and server.
"""

from __future__ import annotations

__version__ = "0.2.0"
