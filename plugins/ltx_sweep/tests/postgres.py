"""A throwaway PostgreSQL server for tests: Debian's own binaries, a cluster in a temporary
folder, listening on a free loopback port, stopped and removed afterwards.

``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres``
system user (``runuser``). Where PostgreSQL is not installed the test fails in CI
(``CI=true``: ``.ci/run`` installs it) and is skipped elsewhere, with the reason.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["postgres_server"]


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    # Debian keeps the binaries off PATH, per major version.
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is needed in CI: {reason} (.ci/run installs it with apt).")
    pytest.skip(f"PostgreSQL is not installed here: {reason}")


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server; yield its SQLAlchemy URL (database ``postgres``, no password)."""
    bindir = _bin_dir()
    if bindir is None:
        _missing("no initdb / pg_ctl on PATH or under /usr/lib/postgresql")
    assert bindir is not None
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            _missing("running as root without runuser to become the postgres user")
        as_user = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="ltx-pg-"))
    data = root / "data"
    if as_user:
        shutil.chown(root, user="postgres")
    os.chmod(root, 0o700)
    port = _free_port()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*as_user, *args], capture_output=True, text=True, timeout=120, cwd=root
        )

    try:
        init = run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
        assert init.returncode == 0, init.stderr
        opts = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c max_connections=50"
        start = run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l",
                    str(root / "log"), "-w", "-t", "60", "start")  # fmt: skip
        assert start.returncode == 0, start.stderr + (root / "log").read_text()
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if data.exists():
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
