"""A campaign's manifest as it starts: new (every unit pending, with the machine's facts
and the code's version) or resumed (the stored one, checked against the scenario given,
with any new units added and the previous run's end state cleared).

The orchestrator (bench/orchestrator.py) writes and updates it from there.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import bench
from bench.results import ResultStore, read_manifest, read_scenario
from bench.resume import check_resume, scenario_hash
from bench.units import interleaved_units, now
from core.scenario import Campaign
from stacks.host_facts import machine_facts


def git_commit() -> str | None:
    """The checkout's commit, when bakeoff runs from a git clone."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).parent, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def resume_manifest(campaign: Campaign, store: ResultStore,
                    allow_changes: bool) -> dict[str, Any]:
    """The stored manifest, checked against the given scenario, with any new units."""
    manifest = read_manifest(store.dir)
    old = read_scenario(store.dir)
    measured = {k for k, u in manifest.get("units", {}).items() if u.get("status") == "ok"}
    changes = check_resume(old, campaign, measured, allow_changes,
                           f"--resume {store.campaign_id}")
    units = interleaved_units(campaign)
    if changes:
        manifest.setdefault("scenario_changes", []).append(
            {"at": now(), "changes": [str(c) for c in changes]})
        store.create(campaign, manifest)  # the scenario now in force
        manifest["order"] = [u.key for u in units]
    for u in units:
        manifest["units"].setdefault(u.key, {"status": "pending"})
    manifest["scenario_hash"] = scenario_hash(campaign)
    manifest["status"] = "running"
    manifest["resumed_at"] = now()
    manifest.setdefault("resumes", []).append(manifest["resumed_at"])
    for key in ("error", "interrupted_by", "teardown", "leftovers", "finished_at",
                "assemble_error"):
        manifest.pop(key, None)
    store.write_manifest(manifest)
    return manifest


def initial_manifest(campaign: Campaign, campaign_id: str) -> dict[str, Any]:
    """A new campaign's manifest: every unit pending, in the interleaved order."""
    units = interleaved_units(campaign)
    return {
        "campaign_id": campaign_id,
        "scenario": campaign.name,
        "bakeoff_version": bench.__version__,
        "git_commit": git_commit(),
        "started_at": now(),
        "status": "running",
        "scenario_hash": scenario_hash(campaign),
        "machine": machine_facts(),
        "order": [u.key for u in units],
        "units": {u.key: {"status": "pending"} for u in units},
        "sites": {},
        "tool_versions": {},
    }
