"""The units of a campaign, their order, the campaign id and its final status.

A unit is one workload at one site for one repetition: the grain of the journal, of
resume and of failure. Local sites share one machine, so units run repetition-major and
interleaved across sites (A B A B), so that drift of the machine favours no site.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from bench.results import unit_key
from core.scenario import Campaign, WorkloadSpec


@dataclass(frozen=True)
class Unit:
    site: str
    workload: WorkloadSpec
    repetition: int

    @property
    def key(self) -> str:
        return unit_key(self.site, self.workload.name, self.repetition)


def interleaved_units(campaign: Campaign) -> list[Unit]:
    """Repetition-major order: every site runs repetition r of a workload back to back."""
    sites = [s.name for s in campaign.sites]
    most = max([w.repetitions or campaign.repetitions for w in campaign.workloads] or [0])
    units = []
    for rep in range(most):
        for spec in campaign.workloads:
            if rep < (spec.repetitions or campaign.repetitions):
                units.extend(Unit(site, spec, rep) for site in sites)
    return units


def new_campaign_id(campaign: Campaign) -> str:
    """Name, UTC second and 24 random bits: two runs in the same second never collide."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{campaign.name}-{stamp}-{secrets.token_hex(3)}"


def final_status(manifest: dict[str, Any]) -> str:
    """complete (all ok), partial (some ok), nothing-measured (none ok)."""
    statuses = [u.get("status") for u in manifest["units"].values()]
    if statuses and all(s == "ok" for s in statuses):
        return "complete"
    return "partial" if "ok" in statuses else "nothing-measured"


def now() -> str:
    """UTC now as the manifest writes times (ISO 8601, seconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
