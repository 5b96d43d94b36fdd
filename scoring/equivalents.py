"""Equivalent shapes across providers, by a rule that can be checked line by line.

Architects compare "a 4-vCPU compute box" on each cloud; names differ (c7i.xlarge,
D4ls_v6, c3-highcpu-4), and so do memory, CPU and price. A row is a candidate when it has the
family, exactly the vCPUs, memory within MEMORY_TOLERANCE of the target (the stated
memory_gib, else vCPUs x the family's GiB per vCPU), the arch, the same burstable-or-not,
the CPU vendor asked (any by default) and a known CPU platform (scoring/data/cpu_platforms.csv).
Then the CPU era: the newest era that every cloud with a candidate offers (any region of
the snapshot), so no cloud is priced on a 2018 Xeon against another's 2023 EPYC; a region
without that era falls back to its newest and the difference is stated. Within the era the
cheapest on-demand price wins; equal prices go to the newest generation, then the name.
Managed databases match vCPUs and memory the same way and are non-burstable unless asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.errors import PriceNotFoundError
from core.provider_facts import DEFAULT_DISK_TYPE, attaches
from core.scenario import CloudSite, SizeSpec
from scoring.catalog import Catalog, ComputeRow
from scoring.catalog_load import load_catalog

MEMORY_TOLERANCE = 0.10  # +-10 %: c4-standard-4 (15 GB) matches 16 GiB; n2-highcpu-4 (4) not 8
GIB_PER_VCPU = {"compute": 2.0, "general": 4.0, "memory": 8.0}  # highcpu / standard / highmem
PROVIDERS = ("aws", "azure", "gcp")
_DB_CUSTOM = re.compile(r"^db-custom-(\d+)-(\d+)$")


def target_memory(family: str, vcpus: int, memory_gib: float | None) -> float:
    return memory_gib if memory_gib is not None else vcpus * GIB_PER_VCPU[family]


def memory_matches(have: float, want: float) -> bool:
    return abs(have - want) <= MEMORY_TOLERANCE * want + 1e-9


def candidates(catalog: Catalog, provider: str, region: str | None,
               size: SizeSpec, disk_type: str | None = None) -> list[ComputeRow]:
    """Rows of `provider` (in `region`, or any) that satisfy every matching rule but the era,
    and can attach the site's disk type (GCP Hyperdisk-only series take no pd-* disk)."""
    want_mem = target_memory(size.family, size.vcpus, size.memory_gib)
    vendor = getattr(size, "cpu_vendor", "any")
    burstable = getattr(size, "burstable", False)
    return [r for r in catalog.compute_rows(provider=provider, region=region,
                                            family=size.family, arch=size.arch)
            if r.vcpus == size.vcpus and memory_matches(r.memory_gib, want_mem)
            and r.burstable == burstable and r.era > 0
            and (vendor == "any" or r.cpu_vendor == vendor)
            and attaches(provider, r.instance_type, disk_type)]


def common_era(size: SizeSpec, catalog: Catalog) -> int | None:
    """The newest CPU era every cloud with a candidate offers; None when they share none."""
    eras = [{r.era for r in candidates(catalog, p, None, size)} for p in PROVIDERS]
    offered = [e for e in eras if e]
    shared = set.intersection(*offered) if offered else set()
    return max(shared) if shared else None


def pick(rows: list[ComputeRow], era: int | None) -> ComputeRow:
    """In the era (else the newest the rows have): cheapest; ties to the newest generation."""
    pool = [r for r in rows if r.era == era] or [
        r for r in rows if r.era == max(x.era for x in rows)]
    return min(pool, key=lambda r: (r.ondemand_usd_per_hour, -r.generation_year,
                                    r.instance_type))


def rule_text(size: SizeSpec) -> str:
    want_mem = target_memory(size.family, size.vcpus, size.memory_gib)
    return (f"family={size.family}, vcpus={size.vcpus}, arch={size.arch}, memory "
            f"{want_mem:g} GiB +-{MEMORY_TOLERANCE:.0%}, cpu_vendor="
            f"{getattr(size, 'cpu_vendor', 'any')}, "
            f"{'burstable' if getattr(size, 'burstable', False) else 'non-burstable'}")


def resolve_size(provider: str, region: str, size: SizeSpec,
                 catalog: Catalog | None = None, disk_type: str | None = None) -> ComputeRow:
    """The row the like-for-like rule picks; a clear error listing what exists otherwise."""
    catalog = catalog or load_catalog()
    matching = candidates(catalog, provider, region, size, disk_type)
    if matching:
        return pick(matching, common_era(size, catalog))
    in_region = catalog.compute_rows(provider=provider, region=region)
    if not in_region:
        regions = sorted({r.region for r in catalog.compute_rows(provider=provider)})
        raise PriceNotFoundError(f"{provider} {region}: no compute prices in the snapshot; "
                                 f"regions with prices: {', '.join(regions) or 'none'}")
    shapes = sorted({(r.family, r.arch, r.vcpus, r.memory_gib, r.cpu_vendor,
                      "burstable" if r.burstable else "dedicated") for r in in_region})
    listed = "; ".join(f"{f}/{a}/{v} vCPU/{m:g} GiB/{c}/{b}" for f, a, v, m, c, b in shapes)
    raise PriceNotFoundError(f"{provider} {region}: no instance type with {rule_text(size)}; "
                             f"shapes in the snapshot: {listed}")


def site_compute_row(site: CloudSite, catalog: Catalog | None = None) -> ComputeRow:
    """The catalog row for a cloud site, whether it names an instance type or a size."""
    catalog = catalog or load_catalog()
    if site.instance_type is not None:
        return catalog.compute(site.provider, site.region, site.instance_type)
    assert site.size is not None  # the scenario model guarantees one of the two
    return resolve_size(site.provider, site.region, site.size, catalog,
                        site.disk_type or DEFAULT_DISK_TYPE[site.provider])


@dataclass
class Equivalent:
    provider: str
    region: str
    row: ComputeRow | None
    error: str | None = None
    differences: list[str] = field(default_factory=list)


def equivalents(family: str, vcpus: int, memory_gib: float | None = None, arch: str = "x86_64",
                regions: dict[str, str] | None = None, catalog: Catalog | None = None,
                cpu_vendor: str = "any", burstable: bool = False) -> list[Equivalent]:
    """Per provider, the chosen type and how it differs from the others (memory, price, CPU)."""
    catalog = catalog or load_catalog()
    regions = regions or DEFAULT_REGIONS
    size = SizeSpec(family=family, vcpus=vcpus, memory_gib=memory_gib, arch=arch,
                    cpu_vendor=cpu_vendor, burstable=burstable)
    out: list[Equivalent] = []
    for provider, region in regions.items():
        try:
            out.append(Equivalent(provider, region, resolve_size(provider, region, size, catalog)))
        except PriceNotFoundError as e:
            out.append(Equivalent(provider, region, None, str(e)))
    found = [e for e in out if e.row is not None]
    if found:
        mems = {e.row.memory_gib for e in found if e.row}
        eras = {e.row.era for e in found if e.row}
        vendors = {e.row.cpu_vendor for e in found if e.row}
        cheapest = min(e.row.ondemand_usd_per_hour for e in found if e.row)
        for e in found:
            assert e.row is not None
            if len(mems) > 1:
                others = ", ".join(f"{m:g}" for m in sorted(mems - {e.row.memory_gib}))
                e.differences.append(f"memory {e.row.memory_gib:g} GiB (others: {others})")
            if e.row.ondemand_usd_per_hour > cheapest:
                pct = 100 * (e.row.ondemand_usd_per_hour / cheapest - 1)
                e.differences.append(f"on-demand {pct:.0f}% above the cheapest")
            if len(eras) > 1:
                e.differences.append(f"CPU era {e.row.era} (others: "
                                     f"{', '.join(map(str, sorted(eras - {e.row.era})))})")
            if len(vendors) > 1:
                e.differences.append(f"CPU vendor {e.row.cpu_vendor}")
            if e.row.spot_usd_per_hour is None:
                e.differences.append("no spot price in the snapshot")
    return out


@dataclass
class DbMatch:
    provider: str
    region: str
    instance: str | None
    vcpus: int | None = None
    memory_gib: float | None = None
    burstable: bool = False
    usd_per_hour: float | None = None
    error: str | None = None


def db_equivalents(vcpus: int, memory_gib: float, ha: bool, burstable: bool = False,
                   regions: dict[str, str] | None = None,
                   catalog: Catalog | None = None) -> list[DbMatch]:
    """Per provider, the managed PostgreSQL class with these vCPUs and memory (+-tolerance),
    non-burstable unless asked; GCP composes db-custom-<vCPU>-<MiB> from its unit rows."""
    catalog = catalog or load_catalog()
    out = []
    for provider, region in (regions or DEFAULT_REGIONS).items():
        rows = [r for r in catalog.db_rows(provider, region) if r.ha == ha
                and r.vcpus == vcpus and r.memory_gib is not None
                and memory_matches(r.memory_gib, memory_gib) and (burstable or not r.burstable)
                and not r.tier_or_instance.startswith("enterprise:")]
        if rows:
            r = min(rows, key=lambda r: r.usd_per_hour)
            out.append(DbMatch(provider, region, r.tier_or_instance, r.vcpus, r.memory_gib,
                               r.burstable, r.usd_per_hour))
            continue
        if provider == "gcp":
            name = f"db-custom-{vcpus}-{round(memory_gib * 1024)}"
            try:
                p = catalog.managed_db(provider, region, name, ha)
                out.append(DbMatch(provider, region, name, vcpus, memory_gib, False,
                                   p.usd_per_hour))
                continue
            except PriceNotFoundError:
                pass
        have = sorted(f"{r.tier_or_instance} ({r.vcpus} vCPU/{r.memory_gib} GiB"
                      f"{', burstable' if r.burstable else ''})"
                      for r in catalog.db_rows(provider, region) if r.ha == ha and r.vcpus)
        out.append(DbMatch(provider, region, None, error=(
            f"no {'' if burstable else 'non-burstable '}class with {vcpus} vCPU / "
            f"{memory_gib:g} GiB (ha={str(ha).lower()}) in the snapshot; priced there: "
            f"{', '.join(have) or 'none'}")))
    return out


def db_shape(catalog: Catalog, provider: str, region: str, instance: str,
             ha: bool) -> tuple[int | None, float | None, bool]:
    """(vCPUs, GiB, burstable) of a named managed-database class, from the snapshot or name."""
    m = _DB_CUSTOM.match(instance)
    if m:
        return int(m[1]), int(m[2]) / 1024, False
    for r in catalog.db_rows(provider, region):
        if r.tier_or_instance == instance:
            return r.vcpus, r.memory_gib, r.burstable
    return _shape_from_name(instance)


_AWS_SIZES = {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32}
_AWS_GIB_PER_VCPU = {"m": 4.0, "r": 8.0}


def _shape_from_name(instance: str) -> tuple[int | None, float | None, bool]:
    """Shapes the providers encode in class names (db.m6i.large = 2 vCPU / 8 GiB;
    GP_Standard_D2ds_v5 = 2 vCores x 4 GiB); burstable for db.t* and B-series."""
    m = re.fullmatch(r"db\.([mrt])\w*\.(\w+)", instance)
    if m and m[1] in _AWS_GIB_PER_VCPU and m[2] in _AWS_SIZES:
        v = _AWS_SIZES[m[2]]
        return v, v * _AWS_GIB_PER_VCPU[m[1]], False
    m = re.fullmatch(r"(GP|MO)_Standard_[DE](\d+)[a-z]*_v\d", instance)
    if m:
        v = int(m[2])
        return v, v * (4.0 if m[1] == "GP" else 8.0), False
    return None, None, bool(re.match(r"(db\.t|B_)", instance))


# The regions the shipped snapshot covers best (all have compute, egress and managed DB rows).
DEFAULT_REGIONS = {"aws": "us-east-1", "azure": "eastus", "gcp": "us-central1"}
