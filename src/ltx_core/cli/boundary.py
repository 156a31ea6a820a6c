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
            where = _plugin_at_fault(exc)
            raise fail(
                _escape(
                    f"unexpected {type(exc).__name__}{where}: {exc} (set LTX_DEBUG=1 for details)"
                ),
                1,
            ) from None

    return wrapper  # type: ignore[return-value]


def _plugin_at_fault(exc: BaseException) -> str:
    """`` in plugin 'x' (dist version), at file.py:LINE`` when the innermost frame of the
    traceback that belongs to an installed plugin's package is where it failed, else ''.

    Read from the registry already discovered in this process; nothing is imported."""
    from ltx_core.registry import store

    registry = store._REGISTRY
    if registry is None:
        return ""
    owners: dict[str, Any] = {}
    for info in registry.plugins:
        if info.plugin in store.BUILTIN_PLUGINS:
            continue
        owners.setdefault(info.module.split(".")[0], info)
        for spec in registry.components():
            if spec.plugin == info.plugin:
                owners.setdefault(spec.target.split(".")[0].split(":")[0], info)
    tb = exc.__traceback__
    found = ""
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        owner = owners.get(module.split(".")[0])
        if owner is not None:
            dist = " ".join(p for p in (owner.distribution, owner.version) if p)
            name = tb.tb_frame.f_code.co_filename.rsplit("/", 1)[-1]
            found = f" in plugin '{owner.plugin}' ({dist}), at {name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def out(text: str) -> None:
    """Write a result to standard output (one trailing newline)."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
