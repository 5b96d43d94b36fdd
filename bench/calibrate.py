"""`bakeoff calibrate`: this machine's load-generator ceiling for a locustfile, measured.

One Locust process (bakeoff's plugin, the locustfile's own wait times) is pinned to one
core and sent against nginx (a static 200, pinned to another core when there is one), with
users raised level by level (bench.workloads._calibrate_shape) until the process's CPU
demand reaches the saturation guard's limit or `duration_s` is up. The ceiling is the
highest level whose settled intervals all stayed under the limit: its users and requests/s
are the per-core ceiling. Stored as JSON under the state directory with the machine's facts
and the locustfile's SHA-256, which is what `plan` looks it up by.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.poc import LOCUSTFILE
from bench.workloads._locust_parse import CPU_LIMIT
from bench.workloads._locust_run import LocustRun, check_locustfile
from core.environment import Host
from core.errors import BakeoffError

MIN_DURATION_S = 8
MAX_DURATION_S = 1800


def state_root() -> Path:
    from stacks.cloud.state import state_root as root

    return root()


def locustfile_sha(path: str | Path | None) -> str:
    return hashlib.sha256(Path(path or LOCUSTFILE).read_bytes()).hexdigest()


@dataclass
class Calibration:
    locustfile: str
    locustfile_sha256: str
    users_per_core: int
    rps_per_core: float
    cpu_demand_at_ceiling: float
    cpu_limit: float
    reached_limit: bool  # False: time ran out first, so the ceiling is a lower bound
    duration_s: int
    measured_at: str
    machine: dict[str, Any]
    levels: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def calibration_path(sha: str, root: Path | None = None) -> Path:
    return (root or state_root()) / "calibration" / f"{sha[:16]}.json"


def load_calibration(locustfile: str | Path | None, root: Path | None = None) -> \
        Calibration | None:
    """The stored calibration for this locustfile's content, or None."""
    path = calibration_path(locustfile_sha(locustfile), root)
    try:
        data = json.loads(path.read_text())
        return Calibration(**data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as e:
        raise BakeoffError(f"{path}: not a readable calibration ({e}); run `bakeoff "
                           "calibrate` again") from None


def levels_from(doc: dict[str, Any], limit: float) -> list[dict[str, float]]:
    """Per level of users: its settled full intervals' mean req/s and peak CPU demand."""
    rows = doc["intervals"]["rows"][:-1]  # the last interval is cut short by the stop
    levels: dict[int, list[dict[str, Any]]] = {}
    previous = None
    for row in rows:
        users = int(row["users"] or 0)
        settled = previous == users  # the level's first interval starts its users
        previous = users
        demand = max((row["demand"] or row["cpu"] or {"": 0.0}).values())
        if settled and users:
            levels.setdefault(users, []).append(
                {"requests": sum(row["requests"].values()), "demand": demand})
    out = []
    for users, items in sorted(levels.items()):
        out.append({"users": users, "rps": sum(i["requests"] for i in items) / len(items),
                    "demand_peak": max(i["demand"] for i in items),
                    "intervals": len(items), "under_limit": all(i["demand"] < limit
                                                                for i in items)})
    return out


def measure(locustfile: str | Path | None, duration_s: int, host: Host,
            target_url: str, limit: float = CPU_LIMIT) -> Calibration:
    from stacks.host_facts import machine_facts

    if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
        raise BakeoffError(f"calibrate: --duration must be {MIN_DURATION_S}..{MAX_DURATION_S} "
                           f"seconds, got {duration_s}")
    path = check_locustfile(locustfile or LOCUSTFILE)
    run = LocustRun(path, target_url, 1, 1.0, duration_s, processes=1, shaped=True,
                    extra_env={"BAKEOFF_CALIBRATE": json.dumps([limit, duration_s])})
    doc, tail = run.run(host)
    if not doc or not doc.get("intervals", {}).get("rows"):
        raise BakeoffError(f"calibrate: Locust produced no intervals: {tail[-800:]}")
    levels = levels_from(doc, limit)
    ok = [lv for lv in levels if lv["under_limit"]]
    if not ok:
        raise BakeoffError("calibrate: no level of users stayed under the CPU limit "
                           f"({limit:g}%); the machine may be too busy. Levels: {levels}")
    best = max(ok, key=lambda lv: lv["users"])
    facts = machine_facts()
    facts.pop("hostname", None)
    facts["locust"] = doc.get("locust_version")
    return Calibration(
        locustfile=str(path), locustfile_sha256=locustfile_sha(path),
        users_per_core=int(best["users"]), rps_per_core=round(best["rps"], 1),
        cpu_demand_at_ceiling=round(best["demand_peak"], 1), cpu_limit=limit,
        reached_limit=any(not lv["under_limit"] for lv in levels), duration_s=duration_s,
        measured_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), machine=facts,
        levels=levels)


def calibrate(locustfile: str | Path | None, duration_s: int,
              root: Path | None = None) -> tuple[Calibration, Path]:
    """Measure against a local nginx and store the result; returns it and its path."""
    from bench.perf.targets import nginx_static
    from stacks.executors.local import LocalExecutor

    cores = sorted(os.sched_getaffinity(0))
    load_cpu = {cores[0]}
    target_cpus = set(cores[1:]) or None
    host = Host("loadgen", "local", "127.0.0.1", LocalExecutor(cpus=frozenset(load_cpu)), {})
    with nginx_static(workers=1, cpus=target_cpus) as url:
        cal = measure(locustfile, duration_s, host, url)
    path = calibration_path(cal.locustfile_sha256, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(cal.to_json())
    tmp.replace(path)
    return cal, path
