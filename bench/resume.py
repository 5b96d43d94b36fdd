"""Honest resume: the scenario a campaign was measured with is the one it is resumed with.

The resolved scenario's hash is in the manifest. On `--resume`, the stored scenario and
the given one are compared field by field; any difference refuses the resume and is
listed. `--allow-changes` accepts differences that leave every measured unit as it was
(more repetitions, new sites or workloads, criteria, requirements, usage); a change to a
measured site's definition, a measured workload's params, or fewer repetitions than were
measured is refused even then, because it would mix two experiments in one table.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from bench.scenarios import workload_params
from core.errors import BakeoffError
from core.exit_codes import ExitCode
from core.scenario import Campaign


class ScenarioChanged(BakeoffError):
    exit_code = int(ExitCode.INVALID_INPUT)


@dataclass(frozen=True)
class Change:
    what: str
    touches_measured: bool

    def __str__(self) -> str:
        return self.what + (" [touches measured units]" if self.touches_measured else "")


def scenario_hash(campaign: Campaign) -> str:
    """sha256 of the resolved scenario (defaults filled in, keys sorted)."""
    text = json.dumps(campaign.model_dump(mode="json"), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _params(spec: Any) -> dict[str, Any]:
    try:
        return workload_params(spec).model_dump(mode="json")
    except Exception:  # an unknown workload in an old scenario: compare what was written
        return dict(spec.params)


def _diff(a: dict[str, Any], b: dict[str, Any]) -> str:
    keys = sorted(set(a) | set(b))
    parts = [f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in keys if a.get(k) != b.get(k)]
    return ", ".join(parts)


def _reps(c: Campaign) -> dict[str, int]:
    return {w.name: w.repetitions or c.repetitions for w in c.workloads}


def _named_changes(kind: str, verb: str, old: dict[str, dict[str, Any]],
                   new: dict[str, dict[str, Any]], measured: set[str]) -> list[Change]:
    """Removed, added and changed entries (sites or workloads) by name; a change touches
    measured units when the entry has any."""
    out = []
    for name in sorted(set(old) | set(new)):
        hit = name in measured
        if name not in new:
            out.append(Change(f"{kind} '{name}' removed", hit))
        elif name not in old:
            out.append(Change(f"{kind} '{name}' added", False))
        elif old[name] != new[name]:
            out.append(Change(f"{kind} '{name}' {verb} ({_diff(old[name], new[name])})", hit))
    return out


def scenario_changes(old: Campaign, new: Campaign, measured: set[str]) -> list[Change]:
    """Differences between the stored and the given scenario; `measured` = unit keys done."""
    sites_measured = {k.split("/")[0] for k in measured}
    wl_measured = {k.split("/")[1] for k in measured}
    reps_measured: dict[str, int] = {}
    for k in measured:
        _, wl, rep = k.split("/")
        reps_measured[wl] = max(reps_measured.get(wl, 0), int(rep) + 1)
    out = _named_changes("site", "changed",
                         {s.name: s.model_dump(mode="json") for s in old.sites},
                         {s.name: s.model_dump(mode="json") for s in new.sites}, sites_measured)
    out += _named_changes("workload", "params changed",
                          {w.name: _params(w) for w in old.workloads},
                          {w.name: _params(w) for w in new.workloads}, wl_measured)
    old_reps, new_reps = _reps(old), _reps(new)
    for name in sorted(set(old_reps) & set(new_reps)):
        if old_reps[name] != new_reps[name]:
            fewer = new_reps[name] < reps_measured.get(name, 0)
            out.append(Change(f"workload '{name}' repetitions {old_reps[name]} -> "
                              f"{new_reps[name]}", fewer))
    rest_old = old.model_dump(mode="json", exclude={"sites", "workloads", "repetitions"})
    rest_new = new.model_dump(mode="json", exclude={"sites", "workloads", "repetitions"})
    for key in sorted(set(rest_old) | set(rest_new)):
        if rest_old.get(key) != rest_new.get(key):
            out.append(Change(f"'{key}' changed", False))
    return out


def check_resume(old: Campaign, new: Campaign, measured: set[str], allow_changes: bool,
                 source: str) -> list[Change]:
    """Raise ScenarioChanged unless the resume is honest; return the accepted changes."""
    changes = scenario_changes(old, new, measured)
    if not changes:
        return []
    listing = "\n".join(f"  - {c}" for c in changes)
    if any(c.touches_measured for c in changes):
        raise ScenarioChanged(
            f"{source}: the scenario differs from the one this campaign was measured with, "
            f"in ways that touch units already measured:\n{listing}\nResuming would mix two "
            "experiments in one table. Undo these changes to resume, or start a new campaign.")
    if not allow_changes:
        raise ScenarioChanged(
            f"{source}: the scenario differs from the one this campaign was measured with:\n"
            f"{listing}\nNone of these touches a measured unit; pass --allow-changes to resume "
            "with them (they are recorded in the manifest).")
    return changes
