"""`bakeoff prices diff OLD NEW`: prices changed, added or removed between two snapshots."""

from __future__ import annotations

from dataclasses import dataclass

from scoring.catalog import Catalog
from scoring.prices.snapshot import rows_by_kind

# kind -> (key fields, price fields)
KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "compute": (("provider", "region", "instance_type"),
                ("ondemand_usd_per_hour", "spot_usd_per_hour")),
    "commitments": (("provider", "region", "instance_type", "term_years", "payment",
                     "instrument"), ("effective_usd_per_hour", "upfront_usd")),
    "db_commitments": (("provider", "region", "instance", "ha", "term_years", "payment"),
                       ("effective_usd_per_hour", "discount_pct", "upfront_usd")),
    "egress": (("provider", "region_scope", "destination", "tier_start_gb"),
               ("usd_per_gb", "tier_end_gb")),
    "managed_db": (("provider", "region", "tier_or_instance", "ha"),
                   ("usd_per_hour", "storage_usd_per_gb_month")),
    "storage": (("provider", "region", "volume_type"),
                ("usd_per_gb_month", "iops_usd_per_month")),
    "disk_tiers": (("provider", "region", "volume_type", "tier"), ("usd_per_month",)),
    "services": (("provider", "region", "item"), ("usd_per_unit",)),
    "platforms": (("provider", "region", "service", "plan", "item"),
                  ("usd_per_unit", "free_units_per_month")),
}


@dataclass(frozen=True)
class Change:
    kind: str
    key: str
    change: str  # changed | added | removed
    field: str = ""
    old: float | None = None
    new: float | None = None

    @property
    def pct(self) -> float | None:
        if self.old and self.new is not None:
            return 100 * (self.new / self.old - 1)
        return None


def _index(catalog: Catalog, kind: str) -> dict[str, object]:
    keys, _ = KEYS[kind]
    rows = rows_by_kind(catalog)[kind]
    return {"/".join(str(getattr(r, k)) for k in keys): r for r in rows}


def diff(old: Catalog, new: Catalog) -> list[Change]:
    out: list[Change] = []
    for kind, (_, fields) in KEYS.items():
        a, b = _index(old, kind), _index(new, kind)
        for key in sorted(a.keys() - b.keys()):
            out.append(Change(kind, key, "removed"))
        for key in sorted(b.keys() - a.keys()):
            out.append(Change(kind, key, "added"))
        for key in sorted(a.keys() & b.keys()):
            for f in fields:
                x, y = getattr(a[key], f), getattr(b[key], f)
                if x != y:
                    out.append(Change(kind, key, "changed", f, x, y))
    return out
