"""Cold start-up of the commands that must stay fast: ``ltx --help`` and ``ltx list``.

Each command runs in a fresh process N times; the table shows median and best wall
time against the 0.3 s target. Run: ``python benchmarks/bench_cli_startup.py [N]``.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.3
COMMANDS = [["list"], ["list", "--json"], ["--help"], ["plugins"]]


def time_command(ltx: str, args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([ltx, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)  # fmt: skip
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    ltx = str(Path(sys.executable).with_name("ltx"))
    time_command(ltx, ["list"], 2)  # warm the file cache: "cold" means a new process
    print(f"ltx start-up, {runs} fresh processes each ({platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()})")  # fmt: skip
    print(f"{'command':<22}{'median s':>10}{'best s':>10}{'target s':>10}  ok")
    for args in COMMANDS:
        t = time_command(ltx, args, runs)
        med = statistics.median(t)
        ok = "yes" if med <= TARGET_S else "NO"
        print(f"{'ltx ' + ' '.join(args):<22}{med:>10.3f}{min(t):>10.3f}{TARGET_S:>10.2f}  {ok}")


if __name__ == "__main__":
    main()
