"""Where a campaign writes down what it creates on this machine, before it creates it.

Every campaign owns a state folder `<state root>/<campaign id>/` holding:

- `lock`: an flock held by the owning process for the campaign's whole life. The kernel
  drops it when the owner dies (also on SIGKILL), so "lock free" means "owner dead".
- `owner.json`: pid, the pid's start time, command line, results folder (for humans).
- `resources.jsonl`: one JSON line per resource, appended and fsynced *before* the
  resource exists: temp dirs, network namespaces, veths, PostgreSQL data dirs.

Processes are found without a pidfile race: the owner puts `BAKEOFF_CAMPAIGN=<id>` in its
environment, which every child inherits, and keeps every temp file under one temp root
whose name carries the id (PostgreSQL, which resets its environment, shows that path in
its command line). `bench.leftovers` reads all of this for `bakeoff gc`.

This module lives in stacks/ because provisioning code records here; it imports nothing
of bench/.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

CAMPAIGN_ENV = "BAKEOFF_CAMPAIGN"
STATE_ENV = "BAKEOFF_STATE_DIR"
TEMP_PREFIX = "bakeoff-"


def state_root() -> Path:
    """Folder of campaign states, one folder per campaign id.

    `$BAKEOFF_STATE_DIR/campaigns` when set (the layout the cloud lifecycle's journal
    uses too, so one campaign has one state folder), else a per-user folder in /var/tmp,
    which survives a reboot like the temp dirs a killed campaign may leave.
    """
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV]).expanduser() / "campaigns"
    uid = os.getuid()
    return Path("/var/tmp/bakeoff-state" if uid == 0 else f"/var/tmp/bakeoff-state-{uid}") \
        / "campaigns"


def temp_root_for(campaign_id: str, base: str | None = None) -> Path:
    """The one temp folder under which a campaign keeps every temp file and dir."""
    return Path(base or tempfile.gettempdir()) / f"{TEMP_PREFIX}{campaign_id}"


class Tracker:
    """Appends resource records for one campaign; cheap and crash-safe (fsync per line)."""

    def __init__(self, campaign_id: str, state_dir: Path):
        self.campaign_id = campaign_id
        self.state_dir = Path(state_dir)

    @property
    def journal(self) -> Path:
        return self.state_dir / "resources.jsonl"

    def record(self, kind: str, **fields: Any) -> None:
        line = json.dumps({"kind": kind, **fields}, sort_keys=True) + "\n"
        fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def resources(self) -> list[dict[str, Any]]:
        return read_resources(self.state_dir)


def read_resources(state_dir: Path) -> list[dict[str, Any]]:
    """Every record; a line torn by a crash mid-write is skipped (it was never acted on)."""
    path = Path(state_dir) / "resources.jsonl"
    out: list[dict[str, Any]] = []
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and "kind" in item:
            out.append(item)
    return out


_current: Tracker | None = None


def activate(tracker: Tracker | None) -> None:
    """Make `tracker` the one provisioning code records into (None: stop recording)."""
    global _current
    _current = tracker


def current() -> Tracker | None:
    return _current


def record(kind: str, **fields: Any) -> None:
    """Record a resource about to be created; a no-op outside a campaign (tests, tools)."""
    if _current is not None:
        _current.record(kind, **fields)
