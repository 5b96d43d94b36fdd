"""A cloud host's scratch directory, named in the campaign's journal.

`down` removes the hosts' scratch directories (the shipped source, fio's files, staged
inputs) before it destroys the stack. A controller killed while measuring never gets
there: its VMs live on, and the resumed run attaches to them and makes new directories.
So every directory made is recorded in the journal (`scratch`: role -> path), and a run
that attaches first removes the ones the journal names. On a real cloud the VM goes with
its stack at the end anyway, but until then the stale files (fio's are sized to the data
disk) would take the resumed run's space; on the loopback "VMs" of the tests they were
left in /tmp for good (each full test run left /tmp/bakeoff-a-client-* and -server-*).

A recorded path is removed only when it has the shape bakeoff gives scratch directories
(`<base>/bakeoff-<site>-<role>-XXXXXX` under /tmp or the data mount), so an edited
journal cannot aim `rm -rf` anywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from core.scenario import CloudSite
from stacks.cloud.datadisk import SCRATCH_NAME, data_scratch
from stacks.cloud.state import CampaignState
from stacks.static import SCRATCH_PREFIX, _mkscratch

RM_TIMEOUT_S = 60


def is_scratch_path(path: str, site: str, role: str, data_mount: str | None) -> bool:
    """True for a directory bakeoff's mktemp templates make for this site and role."""
    bases = [SCRATCH_PREFIX]
    if data_mount:
        bases.append(f"{data_mount.rstrip('/')}/{SCRATCH_NAME}")
    return any(re.fullmatch(re.escape(f"{base}{site}-{role}-") + "[A-Za-z0-9]{6}", path)
               for base in bases)


def remove_stale(state: CampaignState, site: str, role: str, executor: Any,
                 data_mount: str | None, say: Callable[[str], None]) -> None:
    """Remove the scratch directory an earlier run of this campaign made on the host; a
    failure is said, not raised (it costs space, not correctness)."""
    stale = ((state.site_entry(site) or {}).get("scratch") or {}).get(role)
    if not isinstance(stale, str) or not stale:
        return
    if not is_scratch_path(stale, site, role, data_mount):
        say(f"WARNING: the journal names {stale!r} as the {role} host's scratch directory; "
            "it is not one bakeoff makes, so it is left alone")
        return
    try:
        res = executor.run(["rm", "-rf", "--", stale], timeout=RM_TIMEOUT_S)
        problem = "" if res.ok else (res.stderr or res.stdout).strip()[:200]
    except Exception as e:  # a resumed run goes on without it
        problem = str(e)
    if problem:
        say(f"WARNING: could not remove the earlier run's scratch directory {stale} on the "
            f"{role} host: {problem}")


def make_scratch(site: CloudSite, role: str, executor: Any, data_mount: str | None,
                 state: CampaignState, say: Callable[[str], None]
                 ) -> tuple[str, dict[str, str] | None]:
    """(scratch dir, data disk facts or None): the earlier run's directory removed, the
    new one made on the data disk when the host has one, and recorded in the journal."""
    remove_stale(state, site.name, role, executor, data_mount, say)
    disk = None
    if data_mount:  # every program declares it; scratch on the data disk
        scratch, disk = data_scratch(site.name, role, executor, data_mount)
    else:
        scratch = _mkscratch(site, role, executor)  # type: ignore[arg-type]
    recorded = dict((state.site_entry(site.name) or {}).get("scratch") or {})
    state.record(site.name, scratch={**recorded, role: scratch})
    return scratch, disk
