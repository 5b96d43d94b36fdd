"""Compliance as levels per provider and region, and the scenario's `requires` checked on them.

HIPAA is a Business Associate Agreement being available for the services used, not an
attestation; FedRAMP is Moderate, High or none depending on the region; PCI DSS and SOC 2 are
attestations. A region not matched by a row's pattern does not have that level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from scoring.catalog_csv import read_rows
from scoring.catalog_load import DATA_DIR
from scoring.catalog_rows import Provider, Row

Requirement = Literal["soc2", "pci-dss", "hipaa-baa", "fedramp-moderate", "fedramp-high"]
REQUIREMENTS: tuple[str, ...] = ("soc2", "pci-dss", "hipaa-baa", "fedramp-moderate",
                                 "fedramp-high")
# With no `requires`, the criterion counts levels: FedRAMP High counts 2 (it implies Moderate).
POINTS = {"soc2": 1, "pci-dss": 1, "hipaa-baa": 1, "fedramp-moderate": 1, "fedramp-high": 1}


class ComplianceLevelRow(Row):
    provider: Provider
    requirement: Requirement
    regions: str = Field(description="regular expression of the regions it covers")
    met: bool
    status: str
    scope: str
    source_url: str = Field(pattern=r"^https?://")
    recorded: str
    confidence: str


@dataclass(frozen=True)
class Level:
    requirement: str
    met: bool
    status: str
    source: str


@lru_cache(maxsize=4)
def _rows(path: Path) -> tuple[ComplianceLevelRow, ...]:
    return tuple(read_rows(path, ComplianceLevelRow, ("provider", "requirement")))


def levels(provider: str, region: str, path: Path | None = None) -> dict[str, Level]:
    """Requirement -> what this provider has in this region (met False when no row covers it)."""
    out = {}
    for req in REQUIREMENTS:
        row = next((r for r in _rows(path or DATA_DIR / "compliance_levels.csv")
                    if r.provider == provider and r.requirement == req), None)
        if row is not None and re.search(row.regions, region):
            out[req] = Level(req, row.met, row.status,
                             f"{row.source_url} (recorded {row.recorded}; {row.confidence})")
        else:
            why = f"not in {region}" if row is not None else "no record"
            out[req] = Level(req, False, f"none ({why})",
                             row.source_url if row is not None else "")
    return out


@dataclass
class ComplianceResult:
    value: int
    total: int
    note: str
    sources: list[str]
    failed: list[str]


def check(provider: str, region: str, requires: list[str]) -> ComplianceResult:
    """Score for the compliance criterion; any unmet requirement fails the site (value 0)."""
    lv = levels(provider, region)
    if requires:
        failed = [r for r in requires if not lv[r].met]
        met = [r for r in requires if lv[r].met]
        note = (f"FAILS {', '.join(f'{r} ({lv[r].status})' for r in failed)}; " if failed
                else "meets ") + f"{len(met)} of {len(requires)} required"
        return ComplianceResult(0 if failed else len(requires), len(requires), note,
                                [f"{r}: {lv[r].source}" for r in requires if lv[r].source],
                                failed)
    have = [r for r, v in lv.items() if v.met]
    return ComplianceResult(sum(POINTS[r] for r in have), sum(POINTS.values()),
                            "levels: " + ", ".join(f"{r} {lv[r].status}" for r in REQUIREMENTS),
                            [f"{r}: {lv[r].source}" for r in have], [])
