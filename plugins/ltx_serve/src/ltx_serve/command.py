"""``ltx serve``: the Typer command. Torch-free until it runs: :mod:`ltx_serve.server`
(FastAPI, uvicorn, the model) is imported by the command's body only."""

from __future__ import annotations

from typing import Annotated

import typer

from ltx_core.cli import options as c
from ltx_core.cli.boundary import error_boundary


@error_boundary
def serve(
    ckpt: Annotated[str, typer.Option("--ckpt", help="An ltx checkpoint (.ckpt).")],
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to bind: 127.0.0.1 (this machine only), 0.0.0.0, :: or another "
            "address of this machine.",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    max_batch_size: Annotated[
        int,
        typer.Option(
            "--max-batch-size",
            help="Requests predicted together (dynamic batching across clients); 1 turns it off.",
        ),
    ] = 16,
    batch_timeout: Annotated[
        float,
        typer.Option(
            "--batch-timeout",
            help="Seconds a batch waits for more requests while more are arriving.",
        ),
    ] = 0.005,
    max_body_bytes: Annotated[
        int, typer.Option("--max-body-bytes", help="Largest request body; bigger ones get 413.")
    ] = 8 * 1024 * 1024,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds a request may wait for its result (504).")
    ] = 60.0,
    accelerator: Annotated[
        str, typer.Option("--accelerator", help="cpu, gpu, mps or auto.")
    ] = "auto",
    devices: Annotated[
        int | None,
        typer.Option(
            "--devices",
            help="Devices to serve on: one model thread on each (default 1). On the CPU, "
            "that many model threads sharing one copy of the weights and the cores (default "
            "2): one computing alone uses every core.",
        ),
    ] = None,
    precision: c.InferencePrecisionOpt = None,
) -> None:
    """Serve a checkpoint over HTTP: POST /predict, GET /health, GET /info, docs at /docs."""
    from ltx_serve.server import serve as run_server

    run_server(
        ckpt,
        host=host,
        port=port,
        accelerator=accelerator,
        devices=devices,
        precision=precision,
        max_batch_size=max_batch_size,
        batch_timeout=batch_timeout,
        max_body_bytes=max_body_bytes,
        timeout=timeout,
    )
