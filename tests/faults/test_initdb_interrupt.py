"""Issue 19, Build 5: SIGINT/SIGTERM during initdb leaves no PostgreSQL shared memory that
`bakeoff gc` cannot see. The audit leaked two /dev/shm/PostgreSQL.* files and a SysV segment
in 5 of 12 interrupts. A real initdb (the code path LocalPostgres takes) is started in a child
process, interrupted at several points, and /dev/shm and /proc/sysvipc/shm are read after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import pg_shm
from bench.leftovers import _initdb_shm
from tests.conftest import REPO, requires_tools

pytestmark = [pytest.mark.integration, requires_tools("initdb")]

CHILD = """
import sys
from stacks.executors.local import LocalExecutor
from stacks.local_postgres import LocalPostgres
pg = LocalPostgres(LocalExecutor(), "127.0.0.1", sys.argv[1])
print("starting", flush=True)
pg.start()
pg.stop()
"""


def _interrupt(workdir: Path, sig: int, delay: float) -> tuple[float, float]:
    """Start LocalPostgres in a child and signal its whole process group after `delay`."""
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(workdir)], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stdout is not None
    proc.stdout.readline()  # "starting": initdb begins now
    time.sleep(delay)
    with pytest.raises(ProcessLookupError) if proc.poll() is not None else _nothing():
        os.killpg(proc.pid, sig)
    proc.communicate(timeout=120)
    time.sleep(0.5)  # let the kernel drop namespaces of the killed tree
    with _nothing():
        os.killpg(proc.pid, signal.SIGKILL)  # nothing of the group may survive
    return started, time.time()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return isinstance(exc[1], ProcessLookupError)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_initdb_leaves_no_shared_memory(sig, tmp_path):
    leaked = []
    for i, delay in enumerate((0.2, 0.5, 0.9, 1.4)):
        since, until = _interrupt(tmp_path / f"w{i}", sig, delay)
        leaked += [str(p) for p in pg_shm.orphan_posix_segments(since, until)]
        leaked += [f"sysv {s}" for s in pg_shm.orphan_sysv_segments(since, until)]
    assert leaked == []


def test_gc_sees_and_removes_an_orphan_segment_of_a_recorded_initdb(tmp_path):
    """The fallback (PostgreSQL < 16 and not root): gc attributes an unmapped
    /dev/shm/PostgreSQL.* file created during the recorded initdb to the dead campaign."""
    since = time.time()
    planted = pg_shm.SHM_DIR / f"PostgreSQL.{os.getpid()}{int(since) % 100000}"
    planted.write_bytes(b"\0" * 64)
    try:
        found = _initdb_shm({"kind": "postgres", "root": str(tmp_path), "since": since})
        assert [str(planted) in f.name for f in found].count(True) == 1
        # a segment created before the record is someone else's: not taken
        assert _initdb_shm({"kind": "postgres", "root": str(tmp_path),
                            "since": since + 600}) == []
        next(f for f in found if str(planted) in f.name).remove()
        assert not planted.exists()
    finally:
        planted.unlink(missing_ok=True)


def test_gc_leaves_a_mapped_segment_alone(tmp_path):
    import mmap

    since = time.time()
    planted = pg_shm.SHM_DIR / f"PostgreSQL.{os.getpid()}9{int(since) % 10000}"
    planted.write_bytes(b"\0" * 4096)
    try:
        with open(planted, "r+b") as f, mmap.mmap(f.fileno(), 4096):
            found = _initdb_shm({"kind": "postgres", "root": str(tmp_path), "since": since})
            assert not [x for x in found if str(planted) in x.name]
    finally:
        planted.unlink(missing_ok=True)
