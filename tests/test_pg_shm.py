"""The SysV shared memory table gc reads (bench/pg_shm.py), against the kernel's tools.

Two real segments are made here with shmget(2): one by a child process that then exits
(what a killed initdb leaves: attached by nobody, its creator gone) and one by this
process (alive). `ipcs -m` (util-linux) is the independent reader; both are removed with
ipcrm whatever happens.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time

from bench import pg_shm
from tests.conftest import requires_tools

# shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600): IPC_PRIVATE is 0, IPC_CREAT 0o1000
MAKE = "import ctypes; print(ctypes.CDLL(None).shmget(0, 4096, 0o1600))"


def _ipcs_nattch() -> dict[int, int]:
    """shmid -> nattch as `ipcs -m` prints them (key shmid owner perms bytes nattch)."""
    out = subprocess.run(["ipcs", "-m"], capture_output=True, text=True, check=True).stdout
    return {int(c[1]): int(c[5]) for c in (line.split() for line in out.splitlines())
            if len(c) >= 6 and c[1].isdigit() and c[5].isdigit()}


@requires_tools("ipcs", "ipcrm")
def test_segments_and_orphans_match_what_the_kernel_says():
    since = time.time()
    made = subprocess.run([sys.executable, "-c", MAKE], capture_output=True, text=True,
                          check=True, timeout=60)
    orphan = int(made.stdout)
    mine = ctypes.CDLL(None).shmget(0, 4096, 0o1600)
    try:
        assert orphan >= 0 and mine >= 0
        until = time.time()
        listed = {s["shmid"]: s for s in pg_shm.sysv_segments()}
        ipcs = _ipcs_nattch()
        for shmid in (orphan, mine):
            assert listed[shmid]["nattch"] == ipcs[shmid] == 0
            assert listed[shmid]["size"] == 4096
            assert since - 1 <= listed[shmid]["ctime"] <= until + 1
        assert listed[mine]["cpid"] == os.getpid() != listed[orphan]["cpid"]
        found = pg_shm.orphan_sysv_segments(since, until)
        assert orphan in found, "a segment whose creator is gone is not reported"
        assert mine not in found, "a segment of a living process is reported"
        assert orphan not in pg_shm.orphan_sysv_segments(since - 100, since - 10)  # window
    finally:
        for shmid in (orphan, mine):
            if shmid >= 0:
                subprocess.run(["ipcrm", "-m", str(shmid)], capture_output=True, check=False)
    assert not {orphan, mine} & set(_ipcs_nattch())
