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
SYSV_TABLE = Path("/proc/sysvipc/shm")
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


def sysv_segments() -> list[dict[str, int]]:
    """Every SysV shared memory segment, as /proc/sysvipc/shm lists it: one mapping per
    segment keyed by that file's header (shmid, cpid, nattch, ctime, ...); [] when it
    cannot be read, and a row that is not all integers is left out."""
    try:
        header, *rows = SYSV_TABLE.read_text().splitlines()
    except (OSError, ValueError):
        return []
    names = header.split()
    out = []
    for row in rows:
        with contextlib.suppress(ValueError):
            out.append(dict(zip(names, (int(v) for v in row.split()), strict=True)))
    return out


def orphan_sysv_segments(since: float, until: float) -> list[int]:
    """SysV segments created in [since, until], attached by nobody, creator gone."""
    return [s["shmid"] for s in sysv_segments()
            if s["nattch"] == 0 and since - 1 <= s["ctime"] <= until and not _alive(s["cpid"])]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
