"""initdb without shared memory left behind when it is interrupted.

The server runs with `dynamic_shared_memory_type=mmap` (segments are files in its data
directory), but initdb's bootstrap backends pick their own: POSIX shared memory in /dev/shm
and a SysV segment. An initdb killed by SIGINT/SIGTERM left two /dev/shm/PostgreSQL.* files
and a SysV segment per interrupt (5 of 12 in the audit), outside every folder gc removes.

- PostgreSQL 16 and later: `initdb -c dynamic_shared_memory_type=mmap` gives the bootstrap
  backends the server's setting (the `-c/--set` option is new in 16).
- Older (Debian 12 ships 15): as root, initdb runs in its own IPC and mount namespaces with
  a private tmpfs on /dev/shm (`unshare --ipc --mount`); whatever it leaves vanishes with
  the namespaces when its last process exits, however it exits.
- Otherwise initdb runs as before, and `bakeoff gc` finds what an interrupted one left
  (bench/leftovers.py: unmapped PostgreSQL segments created during the recorded initdb).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

SETTING = "dynamic_shared_memory_type=mmap"
# mount a private /dev/shm, then run the rest of argv (setpriv drops root after the mount)
PRIVATE_SHM = 'mount -t tmpfs -o size=256m,mode=1777 bakeoff-initdb-shm /dev/shm && exec "$@"'


def major_version(bindir: Path) -> int | None:
    """initdb's major version ("initdb (PostgreSQL) 15.18 ..." -> 15)."""
    try:
        out = subprocess.run([str(bindir / "initdb"), "--version"], capture_output=True,
                             text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    return int(m.group(1)) if m else None


def setting_args(bindir: Path) -> list[str]:
    """`-c dynamic_shared_memory_type=mmap` where this initdb accepts it (16+)."""
    major = major_version(bindir)
    return ["-c", SETTING] if major is not None and major >= 16 else []


def private_shm_prefix(bindir: Path) -> list[str]:
    """The unshare wrapper for an initdb that cannot be given the setting; [] when not
    needed (16+) or not possible (not root, no unshare)."""
    if setting_args(bindir) or os.geteuid() != 0 or not shutil.which("unshare"):
        return []
    return ["unshare", "--ipc", "--mount", "--propagation", "private",
            "sh", "-c", PRIVATE_SHM, "sh"]
