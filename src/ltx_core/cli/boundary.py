"""The CLI's error boundary: the one place where an :class:`~ltx_core.errors.LtxError`
becomes one red sentence on stderr and its exit code (2 for a user's mistake), and
anything else exit 1 without a traceback (``LTX_DEBUG=1`` shows it)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from ltx_core.errors import LtxError

__all__ = ["error_boundary", "fail", "out"]

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one red line on stderr and return the Exit to raise."""
    from rich.console import Console

    # One line whatever a user typed: control characters in a key or value are escaped.
    message = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in message)

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[red]Error:[/red] {message}", markup=True
    )
    return typer.Exit(code)


def error_boundary(func: F) -> F:
    """User mistakes exit 2 with one sentence; anything else exits 1 (LTX_DEBUG=1 re-raises)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LtxError as exc:
            raise fail(_escape(str(exc)), exc.exit_code) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("LTX_DEBUG"):
                raise
            raise fail(
                _escape(f"unexpected {type(exc).__name__}: {exc} (set LTX_DEBUG=1 for details)"), 1
            ) from None

    return wrapper  # type: ignore[return-value]


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def out(text: str) -> None:
    """Write a result to standard output (one trailing newline)."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
