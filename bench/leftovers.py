"""Find and remove what a campaign left on this machine: `bakeoff gc` and teardown's sweep.

A campaign's things are found from its state (stacks.tracking): processes by the
`BAKEOFF_CAMPAIGN=<id>` variable they inherited, by the campaign's temp root in their
command line (PostgreSQL), by living in one of its namespaces, and as children of those;
namespaces, veths, PostgreSQL data dirs (with the SysV segment their postmaster.pid
names) and the temp root from the resource journal. Nothing is touched for a campaign
whose owner still holds its lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import pg_shm
from bench.lock import CampaignClaim, is_live, read_owner
from stacks import netns, tracking


@dataclass
class Leftover:
    kind: str  # process | shm | namespace | veth | tempdir
    name: str
    remove: Callable[[], None] = field(repr=False, compare=False)

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass
class CampaignState:
    campaign_id: str
    dir: Path
    live: bool
    owner: dict
    leftovers: list[Leftover]


# -- processes --------------------------------------------------------------------------

def _proc_bytes(pid: int, name: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return b""


def _ppid(pid: int) -> int:
    for line in _proc_bytes(pid, "status").decode(errors="replace").splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return 0


def _ancestors() -> set[int]:
    out, pid = set(), os.getpid()
    while pid > 1 and pid not in out:
        out.add(pid)
        pid = _ppid(pid)
    return out


def _is_zombie(pid: int) -> bool:
    stat = _proc_bytes(pid, "stat").decode(errors="replace")
    return ") Z " in stat or not stat


def find_processes(campaign_id: str, markers: list[str], namespaces: list[str]) -> dict[int, str]:
    """pid -> command line of every live process belonging to the campaign (not ourselves)."""
    tag = f"{tracking.CAMPAIGN_ENV}={campaign_id}".encode()
    ns_pids: set[int] = set()
    for ns in namespaces:
        ns_pids.update(netns.namespace_pids(ns))
    mine = _ancestors()
    found: dict[int, str] = {}
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid in mine or _is_zombie(pid):
            continue
        cmd = _proc_bytes(pid, "cmdline").replace(b"\0", b" ").decode(errors="replace").strip()
        parents[pid] = _ppid(pid)
        env_vars = _proc_bytes(pid, "environ").split(b"\0")
        if tag in env_vars or pid in ns_pids or any(m in cmd for m in markers):
            found[pid] = cmd
    changed = True  # children of what we found (e.g. PostgreSQL backends) are ours too
    while changed:
        changed = False
        for pid, ppid in parents.items():
            if ppid in found and pid not in found and pid not in mine:
                found[pid] = _proc_bytes(pid, "cmdline").replace(b"\0", b" ").decode(
                    errors="replace").strip()
                changed = True
    return found


def _kill_all(pids: list[int], grace_s: float = 3.0) -> None:
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 3.0)):
        alive = []
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
                alive.append(pid)
        deadline = time.monotonic() + wait
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if Path(f"/proc/{p}").exists() and not _is_zombie(p)]
            time.sleep(0.05)
        if not alive:
            return
        pids = alive


# -- shared memory ----------------------------------------------------------------------

def _postgres_shmid(root: Path) -> int | None:
    """The SysV segment a postmaster noted in its pid file (last field of line 7)."""
    try:
        lines = (root / "data" / "postmaster.pid").read_text().splitlines()
        return int(lines[6].split()[-1])
    except (OSError, IndexError, ValueError):
        return None


def _remove_shm(shmid: int) -> None:
    subprocess.run(["ipcrm", "-m", str(shmid)], capture_output=True, check=False)


def _initdb_shm(record: dict) -> list[Leftover]:
    """Segments an interrupted initdb of this record left (bench/pg_shm.py)."""
    since = record.get("since")
    if not isinstance(since, (int, float)):
        return []
    until = since + pg_shm.INITDB_WINDOW_S
    out = [Leftover("shm", f"{p} (PostgreSQL initdb {record['root']})",
                    lambda p=p: p.unlink(missing_ok=True))
           for p in pg_shm.orphan_posix_segments(since, until)]
    out += [Leftover("shm", f"SysV segment {i} (PostgreSQL initdb {record['root']})",
                     lambda i=i: _remove_shm(i))
            for i in pg_shm.orphan_sysv_segments(since, until)]
    return out


# -- one campaign -----------------------------------------------------------------------

def campaign_leftovers(campaign_id: str, state_dir: Path) -> list[Leftover]:
    """Everything of the campaign still on this machine, in the order to remove it."""
    resources = tracking.read_resources(state_dir)
    owner = read_owner(state_dir)
    temp_roots = [r["path"] for r in resources if r["kind"] == "tempdir" and r.get("path")]
    if owner.get("temp_root"):
        temp_roots.append(owner["temp_root"])
    temp_roots = sorted(set(temp_roots))
    recorded_ns = [r["name"] for r in resources if r["kind"] == "namespace"]
    existing_ns = set(netns.leftover_namespaces())
    namespaces = sorted({n for n in recorded_ns if n in existing_ns}
                        | {n for n in existing_ns
                           if n.startswith(f"{netns.PREFIX}{campaign_id}-")})
    out: list[Leftover] = []
    procs = find_processes(campaign_id, [t.rstrip("/") + "/" for t in temp_roots], namespaces)
    if procs:
        pids = sorted(procs)
        for pid in pids:
            out.append(Leftover("process", f"{pid} {procs[pid][:120]}", lambda: None))
        out[-1].remove = lambda pids=pids: _kill_all(pids)
    shm = {s["shmid"] for s in pg_shm.sysv_segments()}
    for r in resources:
        if r["kind"] != "postgres":
            continue
        shmid = _postgres_shmid(Path(r["root"]))
        if shmid is not None and shmid in shm:
            out.append(Leftover("shm", f"SysV segment {shmid} (PostgreSQL {r['root']})",
                                lambda s=shmid: _remove_shm(s)))
        out += _initdb_shm(r)
    for ns in namespaces:
        out.append(Leftover("namespace", ns, lambda n=ns: netns.delete_namespace(n)))
    for r in resources:
        if r["kind"] == "veth" and netns.link_exists(r["name"]):
            out.append(Leftover("veth", r["name"], lambda n=r["name"]: netns.delete_link(n)))
    for path in temp_roots:
        if Path(path).exists():
            out.append(Leftover("tempdir", path,
                                lambda p=path: shutil.rmtree(p, ignore_errors=True)))
    return out


def remove(leftovers: list[Leftover]) -> list[str]:
    """Remove in order; return what could not be removed (each with the reason)."""
    problems = []
    for item in leftovers:
        try:
            item.remove()
        except Exception as e:  # keep going: one stuck item must not hide the others
            problems.append(f"{item}: {e}")
    return problems


def sweep_own(claim: CampaignClaim) -> list[str]:
    """Teardown's last step: remove anything of our own campaign that is still there.

    Returns what is left afterwards (empty when the machine is clean of the campaign).
    """
    found = campaign_leftovers(claim.campaign_id, claim.dir)
    problems = remove(found)
    remaining = [str(x) for x in campaign_leftovers(claim.campaign_id, claim.dir)]
    return remaining or problems


# -- every campaign (bakeoff gc) --------------------------------------------------------

def campaign_states(only: str | None = None, root: Path | None = None) -> list[CampaignState]:
    base = root or tracking.state_root()
    if not base.is_dir():
        return []
    out = []
    for d in sorted(p for p in base.iterdir() if p.is_dir()):
        if only and d.name != only:
            continue
        live = is_live(d)
        out.append(CampaignState(d.name, d, live, read_owner(d),
                                 [] if live else campaign_leftovers(d.name, d)))
    return out


def untracked_namespaces(known: set[str]) -> list[str]:
    """`bko-` namespaces no campaign state accounts for (older bakeoff, another user)."""
    return [n for n in netns.leftover_namespaces()
            if not any(n.startswith(f"{netns.PREFIX}{cid}-") for cid in known)
            and not n.startswith(f"{netns.PREFIX}probe-")]


def collect_dead(state: CampaignState) -> list[str]:
    """Remove a dead campaign's leftovers, mark its manifest final, drop its state."""
    claim = CampaignClaim(state.campaign_id, state.dir.parent)
    if not claim.try_acquire_dead():
        return [f"campaign {state.campaign_id} came alive again; not touched"]
    try:
        problems = remove(campaign_leftovers(state.campaign_id, state.dir))
        remaining = [str(x) for x in campaign_leftovers(state.campaign_id, state.dir)]
        finalize_manifest(state.owner.get("results_dir"))
    finally:
        claim.release(remove=not (remaining or problems))
    return remaining or problems


def finalize_manifest(results_dir: str | None,
                      reason: str = "owner process died (killed); leftovers removed by "
                                    "bakeoff gc") -> None:
    """A campaign killed outright left "running" in its manifest: say what happened."""
    if not results_dir:
        return
    path = Path(results_dir) / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if manifest.get("status") != "running":
        return
    from bench.results import ResultStore

    manifest["status"] = "interrupted"
    manifest["interrupted_by"] = reason
    with contextlib.suppress(OSError):
        ResultStore(path.parent.parent, path.parent.name).write_manifest(manifest)
