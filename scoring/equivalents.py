"""Equivalent shapes across providers: family + vCPUs (+ memory, arch) -> one instance type each.

Architects compare "a 4-vCPU compute box" on each cloud; the names differ (c6i.xlarge,
F4s_v2, c2d-standard-4) and so do memory and price. The rule is explicit so the choice can be
checked: among rows of the same family and arch with exactly the requested vCPUs and at least
the requested memory, take the cheapest on-demand price (ties broken by name).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import PriceNotFoundError
from core.scenario import CloudSite, SizeSpec
from scoring.catalog import Catalog, ComputeRow, load_catalog


def resolve_size(provider: str, region: str, size: SizeSpec,
                 catalog: Catalog | None = None) -> ComputeRow:
    """The cheapest catalog row matching the size; a clear error listing what exists otherwise."""
    catalog = catalog or load_catalog()
    rows = catalog.compute_rows(provider=provider, region=region, family=size.family,
                                arch=size.arch)
    matching = [r for r in rows if r.vcpus == size.vcpus
                and (size.memory_gib is None or r.memory_gib >= size.memory_gib)]
    if matching:
        return min(matching, key=lambda r: (r.ondemand_usd_per_hour, r.instance_type))
    want = f"family={size.family}, vcpus={size.vcpus}, arch={size.arch}" + (
        f", memory_gib>={size.memory_gib:g}" if size.memory_gib else "")
    in_region = catalog.compute_rows(provider=provider, region=region)
    if not in_region:
        regions = sorted({r.region for r in catalog.compute_rows(provider=provider)})
        raise PriceNotFoundError(f"{provider} {region}: no compute prices in the snapshot; "
                                 f"regions with prices: {', '.join(regions) or 'none'}")
    shapes = sorted({f"{r.family}/{r.arch}/{r.vcpus} vCPU/{r.memory_gib:g} GiB"
                     for r in in_region},
                    key=lambda s: (s.split("/")[0], s.split("/")[1],
                                   int(s.split("/")[2].split()[0])))
    raise PriceNotFoundError(f"{provider} {region}: no instance type with {want}; shapes in "
                             f"the snapshot: {'; '.join(shapes)}")


def site_compute_row(site: CloudSite, catalog: Catalog | None = None) -> ComputeRow:
    """The catalog row for a cloud site, whether it names an instance type or a size."""
    catalog = catalog or load_catalog()
    if site.instance_type is not None:
        return catalog.compute(site.provider, site.region, site.instance_type)
    assert site.size is not None  # the scenario model guarantees one of the two
    return resolve_size(site.provider, site.region, site.size, catalog)


@dataclass
class Equivalent:
    provider: str
    region: str
    row: ComputeRow | None
    error: str | None = None
    differences: list[str] = field(default_factory=list)


def equivalents(family: str, vcpus: int, memory_gib: float | None = None, arch: str = "x86_64",
                regions: dict[str, str] | None = None,
                catalog: Catalog | None = None) -> list[Equivalent]:
    """Per provider, the chosen type and how it differs from the others (memory, price, arch)."""
    catalog = catalog or load_catalog()
    regions = regions or DEFAULT_REGIONS
    size = SizeSpec(family=family, vcpus=vcpus, memory_gib=memory_gib, arch=arch)
    out: list[Equivalent] = []
    for provider, region in regions.items():
        try:
            out.append(Equivalent(provider, region, resolve_size(provider, region, size, catalog)))
        except PriceNotFoundError as e:
            out.append(Equivalent(provider, region, None, str(e)))
    found = [e for e in out if e.row is not None]
    if found:
        mems = {e.row.memory_gib for e in found if e.row}
        cheapest = min(e.row.ondemand_usd_per_hour for e in found if e.row)
        for e in found:
            assert e.row is not None
            if len(mems) > 1:
                others = ", ".join(f"{m:g}" for m in sorted(mems - {e.row.memory_gib}))
                e.differences.append(f"memory {e.row.memory_gib:g} GiB (others: {others})")
            if e.row.ondemand_usd_per_hour > cheapest:
                pct = 100 * (e.row.ondemand_usd_per_hour / cheapest - 1)
                e.differences.append(f"on-demand {pct:.0f}% above the cheapest")
            if e.row.spot_usd_per_hour is None:
                e.differences.append("no spot price in the snapshot")
    return out


# The regions the shipped snapshot covers best (all have compute, egress and managed DB rows).
DEFAULT_REGIONS = {"aws": "us-east-1", "azure": "eastus", "gcp": "us-central1"}
