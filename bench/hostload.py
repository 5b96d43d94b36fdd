"""Was the host busy with other work while a unit was measured?

A benchmark measured while something else hogs the machine is not a property of the
site. The runner wraps every unit in a `HostLoadWatch`; its summary (load average before
and after, steal time, the heaviest processes that are not the campaign's, and a `busy`
verdict with its reason) goes into the unit's manifest entry, and `bakeoff show` and the
report flag busy units.

On this machine the watch samples every process's CPU time (/proc/<pid>/stat) while the
unit runs and subtracts the campaign's own processes (this process's descendants and the
site's PostgreSQL). On a remote host it runs a shell one-liner through the host's
executor before and after the unit (load average, /proc/stat, `ps`), since the remote
processes cannot be attributed from here.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from core.environment import Environment, Host

# Other processes using this many cores on average make the unit "busy".
BUSY_OTHER_CORES = 0.25
# Steal time above this share of the CPU time (virtual machines) makes it "busy" too.
BUSY_STEAL_PCT = 5.0
SAMPLE_INTERVAL_S = 0.5
_REMOTE_PROBE = ("cat /proc/loadavg; grep '^cpu ' /proc/stat; nproc; "
                 "ps -eo pcpu=,pid=,comm= --sort=-pcpu 2>/dev/null | head -n 5")


def _cpu_ticks(line: str) -> tuple[int, int]:
    """(total, steal) jiffies from a /proc/stat 'cpu ' line."""
    parts = [int(x) for x in line.split()[1:]]
    steal = parts[7] if len(parts) > 7 else 0
    # guest time is already counted in user/nice: leave it out of the total
    return sum(parts[:8]), steal


def _steal_pct(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    if before is None or after is None or after[0] <= before[0]:
        return None
    return round(100.0 * (after[1] - before[1]) / (after[0] - before[0]), 2)


def _local_stat() -> tuple[int, int] | None:
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("cpu "):
                    return _cpu_ticks(line)
    except OSError:
        pass
    return None


@dataclass
class _Proc:
    name: str
    first_cpu: float
    last_cpu: float


_CLK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_table() -> dict[int, tuple[str, int, float, int]]:
    """pid -> (comm, ppid, CPU seconds, start time in ticks), from /proc/<pid>/stat only.

    One small read per process: cheap enough to run every half second beside a benchmark
    (psutil's per-process calls cost several times more).
    """
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        close = data.rfind(b")")
        fields = data[close + 2:].split()
        try:
            table[int(entry)] = (data[data.find(b"(") + 1:close].decode(errors="replace"),
                                 int(fields[1]), (int(fields[11]) + int(fields[12])) / _CLK,
                                 int(fields[19]))
        except (IndexError, ValueError):
            continue
    return table


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _uptime_ticks() -> int:
    try:
        with open("/proc/uptime") as fh:
            return int(float(fh.read().split()[0]) * _CLK)
    except (OSError, ValueError, IndexError):
        return 0


@dataclass
class LocalWatch:
    """Samples every process's CPU time on this machine while a unit runs."""

    own_markers: tuple[str, ...] = ()  # cmdline fragments of the campaign's daemons
    interval_s: float = SAMPLE_INTERVAL_S
    _seen: dict[tuple[int, int], _Proc] = field(default_factory=dict)
    _marker: dict[tuple[int, int], bool] = field(default_factory=dict)
    _ours: set[tuple[int, int]] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _t0: float = 0.0
    _start_ticks: int = 0
    _load0: tuple[float, float, float] = (0.0, 0.0, 0.0)
    _stat0: tuple[int, int] | None = None

    def start(self) -> None:
        self._t0, self._start_ticks = time.monotonic(), _uptime_ticks()
        self._load0 = os.getloadavg()
        self._stat0 = _local_stat()
        self._sample(first=True)
        self._thread = threading.Thread(target=self._loop, name="bakeoff-hostload",
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _is_marked(self, pid: int, key: tuple[int, int]) -> bool:
        if not self.own_markers:
            return False
        if key not in self._marker:  # a process's cmdline is read once
            cmd = _cmdline(pid)
            self._marker[key] = any(m in cmd for m in self.own_markers)
        return self._marker[key]

    def _sample(self, first: bool = False) -> None:
        table = _proc_table()
        children: dict[int, list[int]] = {}
        for pid, (_, ppid, _, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        # ours: this process's tree, and the trees of the campaign's daemons (PostgreSQL)
        roots = [os.getpid()] + [pid for pid, row in table.items()
                                 if self._is_marked(pid, (pid, row[3]))]
        ours: set[int] = set()
        while roots:
            pid = roots.pop()
            if pid not in ours:
                ours.add(pid)
                roots.extend(children.get(pid, ()))
        for pid, (name, _, cpu, start) in table.items():
            key = (pid, start)
            if pid in ours:
                self._ours.add(key)
                continue
            known = self._seen.get(key)
            if known is None:
                born_during = not first and start >= self._start_ticks
                self._seen[key] = _Proc(name, 0.0 if born_during else cpu, cpu)
            else:
                known.last_cpu = cpu

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._sample()
        wall = max(time.monotonic() - self._t0, 1e-3)
        used = sorted(((p.last_cpu - p.first_cpu, p.name, key[0])
                       for key, p in self._seen.items() if key not in self._ours),
                      reverse=True)
        other = sum(u for u, _, _ in used)
        top = [{"pid": pid, "name": name, "cores": round(u / wall, 2)}
               for u, name, pid in used[:15] if u / wall >= 0.05]
        summary = {"where": "local", "window_s": round(wall, 2),
                   "loadavg_before": [round(x, 2) for x in self._load0],
                   "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                   "steal_pct": _steal_pct(self._stat0, _local_stat()),
                   "other_cores": round(other / wall, 2), "other_processes": top}
        return summary


def _parse_remote(text: str) -> dict[str, Any]:
    lines = text.splitlines()
    out: dict[str, Any] = {}
    try:
        out["loadavg"] = [float(x) for x in lines[0].split()[:3]]
        out["stat"] = _cpu_ticks(lines[1])
        out["nproc"] = int(lines[2].strip())
        out["top"] = [ln.split(None, 2) for ln in lines[3:] if ln.strip()]
    except (IndexError, ValueError):
        pass
    return out


def _remote_probe(host: Host) -> dict[str, Any]:
    try:
        res = host.executor.run(("sh", "-c", _REMOTE_PROBE), timeout=20)
    except Exception:  # a probe must never fail the unit
        return {}
    return _parse_remote(res.stdout) if res.ok else {}


@dataclass
class RemoteWatch:
    """Before/after probes of a host reached through its executor."""

    host: Host
    _before: dict[str, Any] = field(default_factory=dict)
    _t0: float = 0.0

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._before = _remote_probe(self.host)

    def stop(self) -> dict[str, Any]:
        after = _remote_probe(self.host)
        before = self._before
        top = []
        for row in before.get("top", []):
            if len(row) == 3:
                try:
                    top.append({"pid": int(row[1]), "name": row[2],
                                "cores": round(float(row[0]) / 100, 2)})
                except ValueError:
                    continue
        return {"where": self.host.name, "window_s": round(time.monotonic() - self._t0, 2),
                "loadavg_before": before.get("loadavg"), "loadavg_after": after.get("loadavg"),
                "steal_pct": _steal_pct(before.get("stat"), after.get("stat")),
                "nproc": before.get("nproc"), "processes_before": top}


def _verdict(summary: dict[str, Any]) -> str:
    reasons = []
    other = summary.get("other_cores")
    if other is not None and other >= BUSY_OTHER_CORES:
        names = ", ".join(f"{p['name']} (pid {p['pid']}, {p['cores']:.2f})"
                          for p in summary.get("other_processes", [])[:3])
        reasons.append(f"other processes used {other:.2f} cores on average"
                       + (f": {names}" if names else ""))
    steal = summary.get("steal_pct")
    if steal is not None and steal >= BUSY_STEAL_PCT:
        reasons.append(f"steal time {steal:.1f}% (the hypervisor ran other guests)")
    load, nproc = summary.get("loadavg_before"), summary.get("nproc")
    if summary.get("where") != "local" and load and nproc and load[0] >= nproc:
        reasons.append(f"{summary['where']}: load average {load[0]:.2f} on {nproc} CPU(s) "
                       "before the unit started")
    return "; ".join(reasons)


class HostLoadWatch:
    """Watch every machine an environment's hosts live on; `stop()` returns the record."""

    def __init__(self, env: Environment) -> None:
        from stacks.executors.local import LocalExecutor

        self.watches: list[Any] = []
        markers = tuple(str(m) for m in env.notes.get("own_process_markers", []))
        local_done = False
        for host in env.hosts.values():
            if isinstance(host.executor, LocalExecutor):
                if not local_done:
                    self.watches.append(LocalWatch(own_markers=markers))
                    local_done = True
            elif host.name in ("client", "server"):
                self.watches.append(RemoteWatch(host))

    def start(self) -> HostLoadWatch:
        for w in self.watches:
            try:
                w.start()
            except Exception:  # a probe must never fail a unit
                continue
        return self

    def stop(self) -> dict[str, Any]:
        """{'hosts': [...], 'busy': bool, 'busy_reason': str}."""
        hosts = []
        for w in self.watches:
            try:
                hosts.append(w.stop())
            except Exception as exc:
                hosts.append({"error": f"{type(exc).__name__}: {exc}"})
        reasons = [r for r in (_verdict(h) for h in hosts) if r]
        return {"hosts": hosts, "busy": bool(reasons), "busy_reason": "; ".join(reasons)}


# The busy units of a campaign, said once (terminal: one line per site; report: a banner).


@dataclass(frozen=True)
class BusyUnits:
    total: int  # measured units (site/workload/rep) in the manifest
    busy: dict[str, Counter]  # site -> workload -> busy repetitions

    @property
    def count(self) -> int:
        return sum(sum(c.values()) for c in self.busy.values())

    def units_of(self, site: str) -> int:
        return sum(self.busy.get(site, Counter()).values())


def count_busy(manifest: dict[str, Any]) -> BusyUnits:
    """Count the busy units per site and workload (provisioning timings excluded)."""
    units = {k: u for k, u in (manifest.get("units") or {}).items()
             if isinstance(u, dict) and k.count("/") == 2}
    busy: dict[str, Counter] = {}
    for key, unit in units.items():
        if unit.get("busy"):
            site, workload, _ = key.split("/")
            busy.setdefault(site, Counter())[workload] += 1
    return BusyUnits(len(units), busy)


def site_lines(manifest: dict[str, Any]) -> list[str]:
    """One line per site with busy units, for the terminal (`run`, `show`)."""
    b = count_busy(manifest)
    per_site = Counter(k.split("/")[0] for k in (manifest.get("units") or {}) if
                       k.count("/") == 2)
    out = []
    for site in sorted(b.busy):
        parts = ", ".join(f"{w} {n}" for w, n in sorted(b.busy[site].items()))
        out.append(f"{site}: host busy during {b.units_of(site)} of {per_site[site]} units "
                   f"({parts}); kept, their numbers may understate the site "
                   "(`bakeoff show` lists the other work)")
    return out


def banner(manifest: dict[str, Any]) -> str:
    """The report headline's banner, or '' on a quiet host."""
    b = count_busy(manifest)
    if not b.count:
        return ""
    return (f"Host busy during {b.count} of {b.total} units: other work ran on the machine "
            "while they were measured, so their numbers may understate the sites.")
