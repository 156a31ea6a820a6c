"""What the study and its reports share about trials: the prefix of the attributes the
sweep keeps on trials and the study, and which trials re-run another one."""

from __future__ import annotations

from typing import Any

__all__ = ["ATTR", "UNSET", "is_retry"]

UNSET = "(unset)"
ATTR = "ltx."  # prefix of the user attributes the sweep keeps on trials and the study


def is_retry(trial: Any) -> bool:
    """Whether a trial re-runs another one whose process died."""
    return "failed_trial" in trial.system_attrs
