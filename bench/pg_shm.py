"""PostgreSQL shared memory an interrupted initdb (or server) of a dead campaign left.

Bootstrap backends of an initdb older than PostgreSQL 16 outside a private namespace use
POSIX segments (/dev/shm/PostgreSQL.<n>) and a SysV segment; killed, they leave both. Neither
names its campaign, so a segment is attributed by time and use: created within the window
of a postgres record of the dead campaign (`since`, written just before initdb, plus
INITDB_WINDOW_S), and mapped or attached by no living process. A live server's segments are
mapped by its postmaster, so they are never taken.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

SHM_DIR = Path("/dev/shm")
INITDB_WINDOW_S = 130.0  # initdb's timeout (120 s) and a margin


def mapped_shm_files() -> set[str]:
    """Paths under /dev/shm that some process has mapped (from /proc/*/maps)."""
    out: set[str] = set()
    for maps in Path("/proc").glob("[0-9]*/maps"):
        with contextlib.suppress(OSError):
            for line in maps.read_text(errors="replace").splitlines():
                if "/dev/shm/PostgreSQL." in line:
                    out.add(line.split(None, 5)[-1].removesuffix(" (deleted)"))
    return out


def orphan_posix_segments(since: float, until: float) -> list[Path]:
    """/dev/shm/PostgreSQL.* created in [since, until] and mapped by nobody."""
    mapped = mapped_shm_files()
    out = []
    for path in sorted(SHM_DIR.glob("PostgreSQL.*")):
        with contextlib.suppress(OSError):
            if since - 1 <= path.stat().st_mtime <= until and str(path) not in mapped:
                out.append(path)
    return out


def orphan_sysv_segments(since: float, until: float) -> list[int]:
    """SysV segments created in [since, until], attached by nobody, creator gone."""
    out = []
    try:
        lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        cols = line.split()
        with contextlib.suppress(IndexError, ValueError):
            shmid, cpid, nattch, ctime = int(cols[1]), int(cols[4]), int(cols[6]), int(cols[13])
            if nattch == 0 and since - 1 <= ctime <= until and not _alive(cpid):
                out.append(shmid)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
