"""The tables `bakeoff prices equivalents` prints: compute matches with the CPU generations
compared, and managed PostgreSQL matched on the database's own shape (never the VM's).

With --scenario the size, regions and database classes come from the scenario's cloud sites,
so the table answers "is what this scenario asks for like for like?".
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from core.errors import BakeoffError, PriceNotFoundError
from core.scenario import CloudSite, SizeSpec
from scoring.catalog import Catalog
from scoring.catalog_csv import CONFIDENCE_LABEL
from scoring.equivalents import (
    DEFAULT_REGIONS,
    common_era,
    db_equivalents,
    db_shape,
    equivalents,
    rule_text,
    target_memory,
)


def _confidence(row: object) -> str:
    level = getattr(row, "level", None)
    return CONFIDENCE_LABEL.get(level, "unstated") if level else "unstated"


def _cloud_sites(scenario: Path) -> list[CloudSite]:
    from bench.scenarios import load_campaign_file

    sites = [s for s in load_campaign_file(scenario).sites if isinstance(s, CloudSite)]
    if not sites:
        raise BakeoffError(f"--scenario {scenario}: no aws, azure or gcp site in it")
    return sites


def _scenario_size(scenario: Path, sites: list[CloudSite]) -> SizeSpec:
    sizes = {s.size.model_dump_json() if s.size else None for s in sites}
    if len(sizes) != 1 or None in sizes:
        named = ", ".join(f"{s.name}: {s.size or s.instance_type}" for s in sites)
        raise BakeoffError(f"--scenario {scenario}: equivalents need every cloud site to ask "
                           f"for the same `size:` (got {named}); give --family and --vcpus")
    size = sites[0].size
    assert size is not None
    return size


def equivalents_tables(catalog: Catalog, family: str | None, vcpus: int | None,
                       memory: float | None, arch: str, cpu_vendor: str, region: list[str],
                       database: bool, db_vcpus: int | None, db_memory: float | None,
                       ha: bool, burstable: bool, scenario: Path | None) -> list[Table]:
    from scoring.prices.common import provider_of_region

    regions = dict(DEFAULT_REGIONS)
    sites: list[CloudSite] = []
    if scenario is not None:
        sites = _cloud_sites(scenario)
        size = _scenario_size(scenario, sites)
        regions = {s.provider: s.region for s in sites}
    else:
        if family is None or vcpus is None:
            raise BakeoffError("give --family and --vcpus, or --scenario FILE")
        if cpu_vendor not in ("intel", "amd", "arm", "any"):
            raise BakeoffError(f"--cpu-vendor {cpu_vendor!r}: expected intel, amd, arm or any")
        size = SizeSpec(family=family, vcpus=vcpus, memory_gib=memory, arch=arch,
                        cpu_vendor=cpu_vendor, burstable=burstable)
    for r in region:
        p = provider_of_region(r)
        if p is None:
            raise BakeoffError(f"--region {r}: not an aws, azure or gcp region name")
        regions[p] = r
    found = equivalents(size.family, size.vcpus, size.memory_gib, size.arch, regions, catalog,
                        size.cpu_vendor, size.burstable)
    era = common_era(size, catalog)
    table = Table(title=f"equivalents: {rule_text(size)}; CPU era compared: "
                        + (f"{era}" if era else "none shared (each cloud's newest)"))
    for col in ("provider", "region", "instance type", "vCPU", "GiB", "CPU (era, GA year)",
                "on-demand $/h", "spot $/h", "confidence", "differences"):
        table.add_column(col, overflow="fold")
    for e in found:
        if e.row is None:
            table.add_row(e.provider, e.region, "none", "", "", "", "", "", "", e.error or "")
            continue
        r = e.row
        table.add_row(e.provider, e.region, r.instance_type, str(r.vcpus), f"{r.memory_gib:g}",
                      r.generation, f"{r.ondemand_usd_per_hour:g}",
                      f"{r.spot_usd_per_hour:g}" if r.spot_usd_per_hour else "n/a",
                      _confidence(r), "; ".join(e.differences) or "-")
    out = [table]
    if database:
        out.append(_db_table(catalog, size, regions, sites, db_vcpus, db_memory, ha, burstable))
    return out


def _db_table(catalog: Catalog, size: SizeSpec, regions: dict[str, str],
              sites: list[CloudSite], db_vcpus: int | None, db_memory: float | None,
              ha: bool, burstable: bool) -> Table:
    """Per provider: the database class matched on the database's shape. From a scenario,
    each site's own class is shown first with its price (catalog row or override)."""
    t = Table(title="managed PostgreSQL, matched on the database's own vCPUs and memory")
    for col in ("provider", "region", "class", "vCPU", "GiB", "$/h", "price from", "note"):
        t.add_column(col, overflow="fold")
    if sites:
        for s in sites:
            if s.database is None or s.database.instance is None:
                t.add_row(s.provider, s.region, "none", "", "", "", "",
                          f"site {s.name} has no database class")
                continue
            db = s.database
            v, mem, burst = db_shape(catalog, s.provider, s.region, db.instance, db.ha)
            price, where = _db_price(catalog, s, db.instance, db.ha)
            note = f"ha={str(db.ha).lower()}" + (", burstable" if burst else "")
            if v and mem:
                (m,) = db_equivalents(v, mem, db.ha, db.burstable, {s.provider: s.region},
                                      catalog)
                if m.instance and m.instance != db.instance:
                    note += f"; cheapest same-shape class in the snapshot: {m.instance} " \
                            f"${m.usd_per_hour:g}/h"
            t.add_row(s.provider, s.region, db.instance, str(v or "?"),
                      f"{mem:g}" if mem else "?", price, where, note)
        return t
    mem = db_memory if db_memory is not None else (
        target_memory(size.family, db_vcpus, None) if db_vcpus else None)
    v = db_vcpus
    note = ""
    if v is None or mem is None:
        v, mem = size.vcpus, target_memory(size.family, size.vcpus, size.memory_gib)
        note = "shape = the compute shape (give --db-vcpus/--db-memory or --scenario)"
    for m in db_equivalents(v, mem, ha, burstable, regions, catalog):
        t.add_row(m.provider, m.region, m.instance or "none", str(m.vcpus or v),
                  f"{(m.memory_gib or mem):g}",
                  f"{m.usd_per_hour:g}" if m.usd_per_hour else "", "catalog" if m.instance
                  else "", "; ".join(x for x in (note, m.error or (
                      "burstable" if m.burstable else "")) if x) or "-")
    return t


def _db_price(catalog: Catalog, site: CloudSite, instance: str, ha: bool) -> tuple[str, str]:
    ov = site.price_override
    if ov is not None and (rate := ov.db_rate("on-demand")) is not None:
        return f"{rate:g}", f"price_override: {ov.reason.strip()[:80]}"
    try:
        p = catalog.managed_db(site.provider, site.region, instance, ha)
    except PriceNotFoundError as e:
        return "n/a", str(e)
    return f"{p.usd_per_hour:g}", f"catalog ({p.note})"
