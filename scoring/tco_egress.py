"""Internet egress priced by destination share, each share on its own tier ladder.

GCP bills Premium-tier egress to China, to Australia and to the rest of the world as three
SKUs; the Cloud Billing Catalog's AggregationInfo says a SKU's tiers count that SKU's usage
(per billing account, per month), so each destination climbs its own 0-1 / 1-10 / 10+ TiB
ladder (docs/pricing.md). AWS and Azure price internet egress by source region only: their
rows say destination "all" and the total GB climbs one ladder.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from core.errors import PriceNotFoundError
from core.scenario import CloudSite, Usage
from scoring.catalog import Catalog
from scoring.catalog_csv import CatalogError

Component = Callable[..., Any]


def ladder(provider: str, region: str, gb: float, catalog: Catalog, component: Component,
           destination: str = "default") -> list[Any]:
    """Cumulative tiers: each GB is priced at the tier it falls in, one component per tier."""
    tiers = catalog.egress_tiers(provider, region, destination)
    to = "" if destination in ("default", "all") else f" to {destination}"
    edge = 0.0
    out = []
    for t in tiers:
        if t.tier_start_gb != edge:
            raise CatalogError(f"egress.csv: {provider} {region} {t.destination} tiers are not "
                               f"contiguous at {edge:g} GB (next tier starts at "
                               f"{t.tier_start_gb:g} GB)")
        end = math.inf if t.tier_end_gb is None else t.tier_end_gb
        qty = max(0.0, min(gb, end) - t.tier_start_gb)
        if qty > 0:
            span = f"{t.tier_start_gb:g}-{'' if end == math.inf else f'{end:g}'} GB"
            out.append(component(f"internet egress{to} {span}", qty, "GB", t.usd_per_gb,
                                 f"{t.source_url} ({t.source_date or 'date unknown'}; "
                                 f"{t.confidence})", "catalog", "egress", t.tier_as_published,
                                 confidence=t.confidence))
        edge = end
    return out


def egress_parts(site: CloudSite, usage: Usage, catalog: Catalog,
                 component: Component) -> tuple[list[Any], list[str], list[str]]:
    """(components, caveats, missing prices) for the month's egress split by destination."""
    gb = usage.egress_gb_per_month
    if gb <= 0:
        return [], [], []
    ov = site.price_override
    if ov is not None and ov.egress_usd_per_gb is not None:
        return [component("internet egress (flat)", gb, "GB", ov.egress_usd_per_gb,
                          f"price_override: {ov.reason}", "override", "egress")], [], []
    mix = {d: s for d, s in usage.egress_destinations.items() if s > 0}
    comps: list[Any] = []
    missing: list[str] = []
    caveats: list[str] = []
    split = catalog.egress_by_destination(site.provider, site.region)
    if not split:  # one ladder for every destination: the total climbs it once
        comps = ladder(site.provider, site.region, gb, catalog, component, "all")
        if set(mix) != {"default"}:
            caveats.append(f"egress: {site.provider} prices internet egress by source region "
                           "only; the destination shares do not change its price")
    for dest, share in (mix.items() if split else ()):
        try:
            comps += ladder(site.provider, site.region, gb * share, catalog, component, dest)
        except PriceNotFoundError as e:
            if str(e) not in missing:
                missing.append(str(e))
    if split and len(mix) > 1:
        caveats.append("egress: " + ", ".join(f"{d} {s:.0%}" for d, s in mix.items())
                       + " of the GB, each destination on its own tier ladder")
    if any(c.unit_price_usd == 0 for c in comps):
        caveats.append("egress free allowance is per account per month, counted here in full "
                       "for this site")
    return comps, caveats, missing
