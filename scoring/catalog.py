"""The price catalog: the shipped snapshot with provenance, plus SLA facts and compliance.

Lookups either return a row (which carries its source) or raise PriceNotFoundError naming the
provider, region and item, and what does exist nearby, so a missing price is never a silent $0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from core.errors import PriceNotFoundError
from scoring.catalog_csv import CatalogError
from scoring.catalog_platforms import PlatformRow
from scoring.catalog_rows import (
    CommitmentRow,
    ComplianceRow,
    ComputeRow,
    DiskTierRow,
    EgressTier,
    ManagedDbRow,
    ServiceRow,
    SlaRow,
    StorageRow,
)

STALE_DAYS = 90

__all__ = [
    "Attestation",
    "Catalog",
    "CatalogError",
    "CommitmentRow",
    "ComputeRow",
    "DbPrice",
    "DiskTierRow",
    "EgressTier",
    "PlatformRow",
    "ServiceRow",
    "SlaRow",
    "StorageRow",
]

# Cloud SQL custom shapes: db-custom-<vCPUs>-<memory MiB>, priced from the per-unit rows.
_DB_CUSTOM = re.compile(r"^db-custom-(\d+)-(\d+)$")


@dataclass(frozen=True)
class Attestation:
    name: str
    attested: bool
    source: str
    scope: str = ""


@dataclass(frozen=True)
class DbPrice:
    """A managed-database price, either a catalog row or computed from documented unit rows."""

    instance: str
    ha: bool
    usd_per_hour: float
    storage_usd_per_gb_month: float | None
    source: str
    note: str
    confidence: str | None = None
    burstable: bool = False
    vcpus: int | None = None
    memory_gib: float | None = None
    date: str | None = None


class Catalog:
    """Validated snapshot. Build it with scoring.catalog_load.load_catalog(); the constructor
    takes rows as given."""

    def __init__(self, *, compute: list[ComputeRow], commitments: list[CommitmentRow],
                 egress: list[EgressTier], managed_db: list[ManagedDbRow],
                 storage: list[StorageRow], sla: list[SlaRow], compliance: list[ComplianceRow],
                 snapshot_id: str = "custom", disk_tiers: list[DiskTierRow] | None = None,
                 services: list[ServiceRow] | None = None,
                 platforms: list[PlatformRow] | None = None,
                 provenance: dict | None = None, path: Path | None = None):
        self._compute = compute
        self._commitments = commitments
        self._egress = egress
        self._db = managed_db
        self._storage = storage
        self._sla = sla
        self._compliance = compliance
        self._disk_tiers = disk_tiers or []
        self._services = services or []
        self._platforms = platforms or []
        self.snapshot_id = snapshot_id
        self.provenance = provenance or {}
        self.path = path

    # -- age -----------------------------------------------------------------------------
    @property
    def snapshot_date(self) -> str | None:
        """When the snapshot was assembled or refreshed (its provenance), ISO date."""
        when = self.provenance.get("retrieved_at") or self.provenance.get("assembled")
        return str(when)[:10] if when else None

    def age_days(self, when: str | None = None, today: date | None = None) -> int | None:
        """Days since `when` (a row's date) or since the snapshot date; None when unknown."""
        when = when or self.snapshot_date
        if not when:
            return None
        today = today or datetime.now(UTC).date()
        return (today - date.fromisoformat(str(when)[:10])).days

    def oldest_price_date(self) -> str | None:
        dates = [row_date(r) for r in (*self._compute, *self._db, *self._storage,
                                       *self._egress, *self._disk_tiers, *self._services,
                                       *self._platforms)]
        known = sorted(d for d in dates if d)
        return known[0] if known else None

    def undated_rows(self) -> dict[str, int]:
        """Per kind, how many price rows carry no date at all (their age is unknown, so the
        staleness banner must count them rather than skip them)."""
        out: dict[str, int] = {}
        for kind, rows in self.all_rows().items():
            n = sum(1 for r in rows if row_date(r) is None)
            if n:
                out[kind] = n
        return out

    def all_rows(self) -> dict[str, list]:
        return {"compute": self._compute, "commitments": self._commitments,
                "egress": self._egress, "managed_db": self._db, "storage": self._storage,
                "disk_tiers": self._disk_tiers, "services": self._services,
                "platforms": self._platforms}

    # -- coverage ------------------------------------------------------------------------
    def coverage(self) -> list[dict[str, str]]:
        """Per provider and region: which kinds and compute terms the snapshot prices."""
        keys: dict[tuple[str, str], dict[str, set[str]]] = {}

        def add(p: str, r: str, kind: str) -> None:
            keys.setdefault((p, r), {}).setdefault("kinds", set()).add(kind)

        for c in self._compute:
            add(c.provider, c.region, "compute")
            terms = keys[(c.provider, c.region)].setdefault("terms", set())
            terms.add("on-demand")
            if c.spot_usd_per_hour:
                terms.add("spot")
        for m in self._commitments:
            keys.setdefault((m.provider, m.region), {}).setdefault("terms", set()).add(
                f"{m.term_years}y")
        for d in self._db:
            add(d.provider, d.region, "postgresql")
        for st in self._storage:
            add(st.provider, st.region, "disks")
        for t in self._disk_tiers:
            add(t.provider, t.region, "disks")
        for e in self._egress:
            add(e.provider, e.region_scope, "egress")
        for sv in self._services:
            add(sv.provider, sv.region, sv.item.split("_")[0] if sv.item.startswith(
                ("lb", "nat")) else sv.item.removesuffix("_hour").removesuffix("_gb")
                .removesuffix("_gb_month"))
        for pl in self._platforms:
            add(pl.provider, pl.region, pl.service)
        order = {"on-demand": 0, "spot": 1, "1y": 2, "3y": 3}
        return [{"provider": p, "region": r,
                 "kinds": ", ".join(sorted(v.get("kinds", set()))),
                 "terms": ", ".join(sorted(v.get("terms", set()), key=lambda t: order.get(t, 9)))}
                for (p, r), v in sorted(keys.items())]

    def valid_values(self) -> dict[str, list[str]]:
        """What `prices show` filters can match, to name them when a filter matches nothing."""
        return {"provider": sorted({r.provider for r in self._compute}),
                "region": sorted({r.region for r in self._compute}),
                "family": sorted({r.family for r in self._compute}),
                "vcpus": [str(v) for v in sorted({r.vcpus for r in self._compute})],
                "arch": sorted({r.arch for r in self._compute})}

    # -- disks billed per tier, network services -----------------------------------------
    def disk_tiers(self, provider: str, region: str, volume_type: str) -> list[DiskTierRow]:
        return sorted((t for t in self._disk_tiers
                       if (t.provider, t.region, t.volume_type) == (provider, region, volume_type)),
                      key=lambda t: t.max_gb)

    def service(self, provider: str, region: str, item: str) -> ServiceRow:
        for r in self._services:
            if (r.provider, r.region, r.item) == (provider, region, item):
                return r
        have = sorted(f"{r.region}/{r.item}" for r in self._services if r.provider == provider
                      and (r.region == region or r.item == item))
        raise PriceNotFoundError(
            f"{provider} {region}: no {item} price in the snapshot (nearby: "
            f"{', '.join(have) or 'none'}); give price_override.services.{item} with a reason")

    def platform(self, provider: str, region: str, service: str, plan: str,
                 item: str) -> PlatformRow:
        """A managed-platform unit price (EKS/AKS/GKE control plane, Lambda, Functions, Cloud
        Run); a named error listing what is priced when the row is missing."""
        for r in self._platforms:
            if (r.provider, r.region, r.service, r.plan, r.item) == (
                    provider, region, service, plan, item):
                return r
        have = sorted(f"{r.region}/{r.service}/{r.plan}/{r.item}" for r in self._platforms
                      if r.provider == provider and r.service == service)
        raise PriceNotFoundError(
            f"{provider} {region}: no {service} {plan} {item} price in the snapshot (priced: "
            f"{', '.join(have) or 'none'}); give a price override with a reason")

    # -- compute -------------------------------------------------------------------------
    def compute_rows(self, provider: str | None = None, region: str | None = None,
                     family: str | None = None, vcpus: int | None = None,
                     arch: str | None = None) -> list[ComputeRow]:
        """Rows matching every filter given, sorted for display."""
        rows = [r for r in self._compute
                if (provider is None or r.provider == provider)
                and (region is None or r.region == region)
                and (family is None or r.family == family)
                and (vcpus is None or r.vcpus == vcpus)
                and (arch is None or r.arch == arch)]
        return sorted(rows, key=lambda r: (r.provider, r.region, r.family, r.vcpus,
                                           r.ondemand_usd_per_hour))

    def compute(self, provider: str, region: str, instance_type: str) -> ComputeRow:
        for r in self._compute:
            if (r.provider, r.region, r.instance_type) == (provider, region, instance_type):
                return r
        in_region = sorted(r.instance_type for r in self._compute
                           if r.provider == provider and r.region == region)
        if in_region:
            hint = f"types priced there: {', '.join(in_region)}"
        else:
            regions = sorted({r.region for r in self._compute if r.provider == provider})
            hint = f"regions priced for {provider}: {', '.join(regions) or 'none'}"
        raise PriceNotFoundError(
            f"{provider} {region}: no compute price for instance type {instance_type!r} in "
            f"the snapshot ({hint}); give price_override.usd_per_hour with a reason")

    def commitment(self, provider: str, region: str, instance_type: str,
                   years: int) -> CommitmentRow | None:
        """The commitment row, or None when the snapshot has none (never a guess)."""
        for r in self._commitments:
            if (r.provider, r.region, r.instance_type, r.term_years) == (
                    provider, region, instance_type, years):
                return r
        return None

    def commitment_providers(self) -> list[str]:
        return sorted({r.provider for r in self._commitments})

    # -- network -------------------------------------------------------------------------
    def egress_tiers(self, provider: str, region: str,
                     destination: str = "default") -> list[EgressTier]:
        """The tier ladder for egress to `destination`: its own rows, or the region's "all"
        rows when the provider's price does not depend on the destination. A destination the
        snapshot has no rows for is a PriceNotFoundError, never the default ladder."""
        here = [t for t in self._egress if t.provider == provider and t.region_scope == region]
        if not here:
            have = sorted({t.region_scope for t in self._egress if t.provider == provider})
            raise PriceNotFoundError(
                f"{provider} {region}: no internet egress tiers in the snapshot (regions with "
                f"tiers: {', '.join(have) or 'none'}); give price_override.egress_usd_per_gb "
                "with a reason")
        dests = {t.destination for t in here}
        if "all" in dests and len(dests) > 1:
            raise CatalogError(f"egress.csv: {provider} {region} has 'all' rows and per-"
                               f"destination rows ({', '.join(sorted(dests))}); use one or the "
                               "other")
        want = "all" if dests == {"all"} else destination
        tiers = sorted((t for t in here if t.destination == want), key=lambda t: t.tier_start_gb)
        if not tiers:
            raise PriceNotFoundError(
                f"{provider} {region}: no internet egress price to destination "
                f"{destination!r} (usage.egress_destinations; destinations with tiers: "
                f"{', '.join(sorted(dests))}); give price_override.egress_usd_per_gb with a "
                "reason")
        return tiers

    def egress_by_destination(self, provider: str, region: str) -> bool:
        """False when the region's egress price is one ladder for every destination."""
        return not any(t.destination == "all" for t in self._egress
                       if t.provider == provider and t.region_scope == region)

    # -- storage -------------------------------------------------------------------------
    def storage(self, provider: str, region: str, volume_type: str) -> StorageRow:
        for r in self._storage:
            if (r.provider, r.region, r.volume_type) == (provider, region, volume_type):
                return r
        have = sorted(f"{r.region}/{r.volume_type}" for r in self._storage
                      if r.provider == provider)
        raise PriceNotFoundError(
            f"{provider} {region}: no block storage price for volume type {volume_type!r} in "
            f"the snapshot (priced for {provider}: {', '.join(have) or 'none'}); give "
            "price_override.storage_usd_per_gb_month (and iops_usd_per_month) with a reason")

    # -- managed database ----------------------------------------------------------------
    def managed_db(self, provider: str, region: str, instance: str, ha: bool) -> DbPrice:
        for r in self._db:
            if (r.provider, r.region, r.tier_or_instance, r.ha) == (provider, region, instance, ha):
                return DbPrice(instance, ha, r.usd_per_hour, r.storage_usd_per_gb_month,
                               r.provenance, "catalog row", r.confidence or _note_conf(r.notes),
                               r.burstable, r.vcpus, r.memory_gib, row_date(r))
        custom = _DB_CUSTOM.match(instance)
        if custom:
            price = self._db_custom(provider, region, int(custom[1]), int(custom[2]) / 1024, ha)
            if price is not None:
                return DbPrice(instance, ha, *price, vcpus=int(custom[1]),
                               memory_gib=int(custom[2]) / 1024)
        have = sorted(f"{r.tier_or_instance} (ha={str(r.ha).lower()})" for r in self._db
                      if r.provider == provider and r.region == region
                      and not r.tier_or_instance.startswith("enterprise:"))
        raise PriceNotFoundError(
            f"{provider} {region}: no managed PostgreSQL price for {instance!r} with "
            f"ha={str(ha).lower()} in the snapshot (priced there: {', '.join(have) or 'none'}); "
            "give price_override.db_usd_per_hour with a reason")

    def _db_custom(self, provider: str, region: str, vcpus: int, mem_gb: float,
                   ha: bool) -> tuple[float, float | None, str, str] | None:
        """Cloud SQL custom shape = vCPUs x vCPU-hour rate + GB x GB-hour rate (documented rows)."""
        units = {r.tier_or_instance: r for r in self._db
                 if (r.provider, r.region, r.ha) == (provider, region, ha)
                 and r.tier_or_instance.startswith("enterprise:per-")}
        cpu = units.get("enterprise:per-vCPU-hour")
        ram = units.get("enterprise:per-GiB-RAM-hour")
        if cpu is None or ram is None:
            return None
        hourly = vcpus * cpu.usd_per_hour + mem_gb * ram.usd_per_hour
        note = (f"computed: {vcpus} vCPU x {cpu.usd_per_hour} + {mem_gb:g} GB x "
                f"{ram.usd_per_hour} per hour (unit rows)")
        return (hourly, cpu.storage_usd_per_gb_month, cpu.provenance, note,
                cpu.confidence or _note_conf(cpu.notes), False)

    def db_rows(self, provider: str | None = None, region: str | None = None
                ) -> list[ManagedDbRow]:
        return [r for r in self._db if (provider is None or r.provider == provider)
                and (region is None or r.region == region)]

    # -- SLA and compliance --------------------------------------------------------------
    def sla(self, provider: str, service: str, tier: str) -> SlaRow:
        for r in self._sla:
            if (r.provider, r.service, r.tier) == (provider, service, tier):
                return r
        have = sorted(f"{r.service}/{r.tier}" for r in self._sla if r.provider == provider)
        raise PriceNotFoundError(f"{provider}: no SLA row for {service}/{tier} "
                                 f"(have: {', '.join(have) or 'none'})")

    def compliance(self, provider: str) -> dict[str, Attestation]:
        """Program name -> attestation with its public source, for one provider."""
        return {r.program: Attestation(r.program, r.attested,
                                       f"{r.source_url} (recorded {r.recorded}; {r.confidence})",
                                       r.scope)
                for r in self._compliance if r.provider == provider}


def row_date(row: object) -> str | None:
    """A row's price date: when it was retrieved, else the source's own date."""
    when = getattr(row, "retrieved_at", None) or getattr(row, "source_date", None)
    return str(when)[:10] if when else None


def _note_conf(notes: str | None) -> str | None:
    m = re.search(r"confidence=([a-z_]+)", notes or "")
    return m[1] if m else None
