"""CPU hogs for tests of a busy host: busy loops started outside this process's tree (as
another campaign or a stress-ng would be), pinned to given CPUs, bounded in time, and
killed by pid afterwards."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil


def _hog(seconds: float) -> str:
    return f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass\n"


@contextlib.contextmanager
def cpu_hogs(cpus: list[int], tag: str = "", seconds: float = 120) -> Iterator[list[int]]:
    """One busy loop per entry of `cpus`, pinned there, orphaned (not our descendants)."""
    script = " ".join(f"taskset -c {cpu} {sys.executable} -c '{_hog(seconds)}' {tag} "
                      ">/dev/null 2>&1 & echo $!;" for cpu in cpus)
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30)
    pids = [int(p) for p in out.stdout.split()]
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
                psutil.pid_exists(p) and psutil.Process(p).cpu_times().user > 0.1 for p in pids):
            time.sleep(0.1)
        yield pids
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        psutil.wait_procs([psutil.Process(p) for p in pids if psutil.pid_exists(p)],
                          timeout=5)
