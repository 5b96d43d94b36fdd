"""Locks that tell a live campaign from a dead one, and keep local campaigns apart.

Both are flock(2) locks: the kernel releases them when the holder dies, however it dies,
so a lock that can be taken means its previous owner is gone. The file descriptors are
not inherited by child processes (Python opens them close-on-exec), so a leftover child
cannot keep a dead campaign looking alive.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import BakeoffError
from core.exit_codes import ExitCode
from stacks import tracking

MACHINE_LOCK_ENV = "BAKEOFF_MACHINE_LOCK"


class Busy(BakeoffError):
    """Another live process holds what this one needs (a campaign, the machine)."""

    exit_code = int(ExitCode.BUSY)


def process_start_time(pid: int) -> int | None:
    """Start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def read_owner(state_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((Path(state_dir) / "owner.json").read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def describe_owner(owner: dict[str, Any]) -> str:
    if not owner:
        return "an unknown process"
    return f"pid {owner.get('pid')} (started {owner.get('started_at', '?')})"


class CampaignClaim:
    """The state folder of one campaign, locked by this process for the campaign's life."""

    def __init__(self, campaign_id: str, root: Path | None = None):
        self.campaign_id = campaign_id
        self.dir = (root or tracking.state_root()) / campaign_id
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, results_dir: Path | None = None) -> CampaignClaim:
        """Take the lock or raise Busy naming the live owner."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_flock(fd):
            os.close(fd)
            owner = describe_owner(read_owner(self.dir))
            raise Busy(f"campaign {self.campaign_id} is running ({owner}); "
                       "wait for it to finish, or stop it (Ctrl-C / kill PID) and resume then")
        self._fd = fd
        pid = os.getpid()
        owner = {"campaign_id": self.campaign_id, "pid": pid,
                 "pid_start_ticks": process_start_time(pid), "host": socket.gethostname(),
                 "argv": sys.argv, "started_at": _now(),
                 "results_dir": str(results_dir) if results_dir else None,
                 "temp_root": str(tracking.temp_root_for(self.campaign_id))}
        tmp = self.dir / ".owner.json.tmp"
        tmp.write_text(json.dumps(owner, indent=2))
        os.replace(tmp, self.dir / "owner.json")
        return self

    def try_acquire_dead(self) -> bool:
        """Lock the state of a campaign whose owner is gone (gc); False if it is alive."""
        try:
            fd = os.open(self.dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return False
        if not _try_flock(fd):
            os.close(fd)
            return False
        self._fd = fd
        return True

    def tracker(self) -> tracking.Tracker:
        return tracking.Tracker(self.campaign_id, self.dir)

    def release(self, remove: bool = False) -> None:
        """Drop the lock; with `remove`, delete the state (nothing of the campaign is left)."""
        if remove:
            for name in ("resources.jsonl", "owner.json", "lock", ".owner.json.tmp"):
                with contextlib.suppress(OSError):
                    (self.dir / name).unlink()
            with contextlib.suppress(OSError):
                self.dir.rmdir()
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


def is_live(state_dir: Path) -> bool:
    """Whether a process holds the campaign's lock right now."""
    lock = Path(state_dir) / "lock"
    if not lock.exists():
        return False
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return True  # cannot tell: treat as live, never remove a live campaign's things
    try:
        if _try_flock(fd):
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        return True
    finally:
        os.close(fd)


def machine_lock_path() -> Path:
    """One lock for the whole machine (all users): local sites measure the same CPUs."""
    return Path(os.environ.get(MACHINE_LOCK_ENV) or "/var/tmp/bakeoff-local-sites.lock")


class MachineLock:
    """Held while a campaign with local sites runs; a second one waits or refuses."""

    def __init__(self, path: Path | None = None):
        self.path = path or machine_lock_path()
        self._fd: int | None = None

    def acquire(self, campaign_id: str, wait: bool,
                say: Callable[[str], None] = lambda _m: None, poll_s: float = 0.5) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o666)  # users other than the creator need it too
        told = False
        while not _try_flock(fd):
            holder = self._holder()
            if not wait:
                os.close(fd)
                raise Busy(f"another campaign with local sites is running on this machine "
                           f"({holder}); local sites share these CPUs, so campaigns run one "
                           "at a time. Run again without --no-wait to wait for it.")
            if not told:
                say(f"waiting: another campaign with local sites is running on this machine "
                    f"({holder}); this one starts when it ends (Ctrl-C to give up, --no-wait "
                    "to refuse instead of waiting)")
                told = True
            time.sleep(poll_s)
        self._fd = fd
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"campaign_id": campaign_id, "pid": os.getpid(),
                                  "since": _now()}).encode(), 0)

    def _holder(self) -> str:
        try:
            info = json.loads(self.path.read_text() or "{}")
            return f"campaign {info.get('campaign_id')}, pid {info.get('pid')}"
        except (OSError, ValueError):
            return "holder unknown"

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
