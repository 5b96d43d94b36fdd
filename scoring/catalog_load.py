"""Reading a price snapshot directory into a validated Catalog.

A snapshot is pricing/*.csv plus provenance.json: the shipped one under scoring/data, or a
refreshed one named by $BAKEOFF_PRICE_SNAPSHOT or given. SLA, compliance and architecture
facts come from the snapshot when it holds them, else from the shipped data. Every bad file
is reported at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path

from scoring.catalog import Catalog
from scoring.catalog_csv import CatalogError, read_rows
from scoring.catalog_platforms import PlatformRow
from scoring.catalog_rows import (
    ArchRule,
    CommitmentRow,
    ComplianceRow,
    ComputeRow,
    CpuPlatformRule,
    DiskTierRow,
    EgressTier,
    ManagedDbRow,
    ServiceRow,
    SlaRow,
    StorageRow,
)

DATA_DIR = Path(__file__).parent / "data"
SNAPSHOT_ENV = "BAKEOFF_PRICE_SNAPSHOT"  # a refreshed snapshot directory to use instead


def _apply_arch(rows: list[ComputeRow], rules: list[ArchRule]) -> list[ComputeRow]:
    out = []
    for r in rows:
        arch = next((a.arch for a in rules
                     if a.provider == r.provider and re.search(a.pattern, r.instance_type)),
                    "x86_64")
        out.append(r.model_copy(update={"arch": arch}))
    return out


def _apply_platform(rows: list[ComputeRow], rules: list[CpuPlatformRule]) -> list[ComputeRow]:
    """Vendor, CPU, era and burstable from the first matching rule; 'unknown' when none
    matches (such rows are never chosen as an equivalent: their CPU cannot be compared)."""
    out = []
    for r in rows:
        rule = next((p for p in rules
                     if p.provider == r.provider and re.search(p.pattern, r.instance_type)), None)
        if rule is not None:
            r = r.model_copy(update={"cpu_vendor": rule.cpu_vendor, "cpu": rule.cpu,
                                     "era": rule.era, "generation_year": rule.generation_year,
                                     "burstable": rule.burstable})
        out.append(r)
    return out


def _snapshot_id(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def load_catalog(data_dir: str | Path | None = None) -> Catalog:
    """Load and validate a snapshot: the given directory, $BAKEOFF_PRICE_SNAPSHOT, or the
    shipped one (cached per process). A refreshed snapshot holds pricing/ only; SLA,
    compliance and architecture facts then come from the shipped data."""
    if data_dir is None:
        env = os.environ.get(SNAPSHOT_ENV)
        if env:
            return _load(Path(env))
        return _load_default()
    return _load(Path(data_dir))


@lru_cache(maxsize=1)
def _load_default() -> Catalog:
    return _load(DATA_DIR)


def _facts(d: Path, name: str) -> Path:
    own = d / name
    return own if own.is_file() else DATA_DIR / name


def read_provenance(pricing_dir: Path) -> dict:
    f = pricing_dir / "provenance.json"
    if not f.is_file():
        return {}
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CatalogError(f"{f}: unreadable provenance ({e})") from None


def _load(d: Path) -> Catalog:
    p = d / "pricing"
    if not p.is_dir():
        raise CatalogError(f"{d}: not a price snapshot (no pricing/ directory in it)")
    files = {
        "compute": p / "compute.csv", "commitments": p / "commitments.csv",
        "egress": p / "egress.csv", "managed_db": p / "managed_db.csv",
        "storage": p / "storage.csv", "arch": _facts(d, "architectures.csv"),
        "cpu": _facts(d, "cpu_platforms.csv"),
        "sla": _facts(d, "sla.csv"), "compliance": _facts(d, "compliance.csv"),
    }
    optional = {"disk_tiers": p / "disk_tiers.csv", "services": p / "services.csv",
                "platforms": p / "platforms.csv"}
    problems: list[str] = []

    def rows(name: str, model: type, key: tuple[str, ...] = ()) -> list:
        path = files.get(name) or optional[name]
        if name in optional and not path.is_file():
            return []
        try:
            return read_rows(path, model, key)
        except CatalogError as e:  # keep going: report every bad file at once
            problems.append(str(e))
            return []

    compute = rows("compute", ComputeRow, ("provider", "region", "instance_type"))
    arch_rules = rows("arch", ArchRule)
    cpu_rules = rows("cpu", CpuPlatformRule)
    loaded = {
        "commitments": rows("commitments", CommitmentRow,
                            ("provider", "region", "instance_type", "term_years", "payment",
                             "instrument")),
        "egress": rows("egress", EgressTier, ("provider", "region_scope", "destination",
                                              "tier_start_gb")),
        "managed_db": rows("managed_db", ManagedDbRow,
                           ("provider", "region", "engine", "tier_or_instance", "ha")),
        "storage": rows("storage", StorageRow, ("provider", "region", "volume_type")),
        "sla": rows("sla", SlaRow, ("provider", "service", "tier")),
        "compliance": rows("compliance", ComplianceRow, ("provider", "program")),
        "disk_tiers": rows("disk_tiers", DiskTierRow,
                           ("provider", "region", "volume_type", "tier")),
        "services": rows("services", ServiceRow, ("provider", "region", "item")),
        "platforms": rows("platforms", PlatformRow,
                          ("provider", "region", "service", "plan", "item")),
    }
    if problems:
        raise CatalogError("\n".join(problems))
    hashed = sorted([*files.values(), *(f for f in optional.values() if f.is_file())])
    return Catalog(
        compute=_apply_platform(_apply_arch(compute, arch_rules), cpu_rules),
        **loaded,
        snapshot_id=_snapshot_id(hashed),
        provenance=read_provenance(p),
        path=d,
    )
