"""The one exception type library code raises for a user's mistake.

The CLI is the single place that turns an :class:`LtxError` into a one-line
message on stderr and exit code 2; anything else is unexpected (exit 1).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["LtxError", "PluginError", "RunInterrupted", "did_you_mean"]


class LtxError(Exception):
    """A mistake the user can fix: unknown name, bad config, missing data, no GPU."""

    exit_code = 2


class PluginError(LtxError):
    """A plugin author's bug (an implementation that does not import, a registration that
    names nothing): one sentence naming the plugin and its version, exit 1."""

    exit_code = 1


class RunInterrupted(LtxError):
    """Training stopped by Ctrl-C or SIGTERM after saving; exits 130 (as a shell does)."""

    exit_code = 130


def did_you_mean(word: str, choices: Iterable[str], n: int = 3) -> str:
    """Return ``" Did you mean 'x'?"`` (or ``""``) for the nearest of ``choices``."""
    close = difflib.get_close_matches(word, list(choices), n=n, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
