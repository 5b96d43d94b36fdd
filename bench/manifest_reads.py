"""Counts read from a stored manifest: busy units and spot interruptions.

Pure reads of manifest.json, so deciding and reporting (scoring/) can count them without
importing the orchestrator's modules (bench/show.py renders with rich, bench/preemption.py
inspects live environments).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

PREEMPTED = "preempted"  # a unit's `reason` when its spot host was reclaimed


def _units(manifest: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    units = manifest.get("units") or {}
    if not isinstance(units, dict):
        return []
    return [(str(k), u) for k, u in sorted(units.items()) if isinstance(u, dict)]


def busy_units(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Units measured while the host was busy with other work (see bench.hostload).

    They stay in the results (the flag is information, not a verdict on the site), but
    their numbers may be lower than the site can do: `show` and the report list them.
    """
    out = []
    for key, unit in _units(manifest):
        if unit.get("busy"):
            site, workload, rep = [*key.split("/", 2), "", ""][:3]
            out.append({"key": key, "site": site, "workload": workload, "repetition": rep,
                        "reason": unit.get("busy_reason", "")})
    return out


def site_preempted(manifest: dict[str, Any], site: str) -> bool:
    return any(u.get("reason") == PREEMPTED and key.split("/", 1)[0] == site
               for key, u in _units(manifest))


def preemptions_by_site(manifest: dict[str, Any]) -> dict[str, int]:
    """Units lost to spot interruptions, per site: a finding reported beside the scores."""
    return dict(Counter(key.split("/", 1)[0] for key, u in _units(manifest)
                        if u.get("reason") == PREEMPTED))
