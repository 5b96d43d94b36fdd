"""Total cost of ownership as explicit components: quantity x unit price, each with its source.

Usage assumptions come only from the scenario's `usage` block; prices only from the catalog or
from a site's labelled `price_override`. A price the snapshot lacks is a PriceNotFoundError that
names what is missing, never a guess and never a silent $0.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, Field

from core.errors import PriceNotFoundError
from core.scenario import Campaign, CloudSite, LocalSite, StaticSite, Usage
from scoring import commitments
from scoring.catalog import Catalog, ComputeRow
from scoring.catalog_load import load_catalog
from scoring.equivalents import db_shape, site_compute_row
from scoring.support import support_component
from scoring.tco_cluster import bills_pods, cluster_parts
from scoring.tco_database import database_parts
from scoring.tco_egress import egress_parts, ladder
from scoring.tco_functions import function_parts
from scoring.tco_parts import disk_parts, sud_multiplier
from scoring.tco_services import service_parts

Label = Literal["catalog", "stated", "override"]
Kind = Literal["compute", "storage", "iops", "database", "database_storage", "egress", "network",
               "discount", "support", "function"]
Site = LocalSite | StaticSite | CloudSite

TERMS = ("on-demand", "1y", "3y", "spot")
TERM_MONTHS = {"on-demand": 1, "spot": 1, "1y": 12, "3y": 36}
HOURS_PER_MONTH_COMMITTED = 730  # commitments bill every hour; the snapshot's month is 730 h
SPOT_CAVEAT = "spot: may be interrupted; price varies"


class CostComponent(BaseModel):
    name: str
    quantity: float
    unit: str
    unit_price_usd: float
    monthly_usd: float
    source: str
    label: Label
    note: str = ""
    kind: Kind = "compute"
    commitment_months: int = Field(1, description="a commitment is billed in whole terms")
    confidence: str | None = Field(None, description="provider API / API copy / page / "
                                   "secondary, as the price row states it")
    price_date: str | None = Field(None, description="the price row's date (ISO), for its age")


class SiteCost(BaseModel):
    site: str
    provider: str
    region: str
    instance_type: str | None
    term: str
    components: list[CostComponent]
    monthly_usd: float
    hourly_usd: float = Field(description="effective compute $/h for one instance")
    horizons: dict[int, float] = Field(description="months -> total USD")
    caveats: list[str] = Field(default_factory=list)
    price_label: Label

    def monthly_by_kind(self, *kinds: str) -> float:
        return sum(c.monthly_usd for c in self.components if c.kind in kinds)


class TermRate(BaseModel):
    """One compute term for a site: its $/h and source, or why the snapshot has none."""

    term: str
    usd_per_hour: float | None
    source: str


def billed_months(horizon: int, commitment_months: int) -> int:
    """A commitment renews in whole terms: ceil(horizon / term) x term months are paid."""
    return math.ceil(horizon / commitment_months) * commitment_months


def horizon_total(components: list[CostComponent], months: int) -> float:
    return sum(c.monthly_usd * billed_months(months, c.commitment_months) for c in components)


def _component(name: str, qty: float, unit: str, price: float, source: str, label: Label,
               kind: Kind, note: str = "", commitment_months: int = 1,
               confidence: str | None = None) -> CostComponent:
    dated = _DATE.search(source) if label == "catalog" else None
    return CostComponent(name=name, quantity=qty, unit=unit, unit_price_usd=price,
                         monthly_usd=qty * price, source=source, label=label, note=note,
                         kind=kind, commitment_months=commitment_months,
                         confidence=confidence or ("stated" if label != "catalog" else None),
                         price_date=dated[1] if dated else None)


_DATE = re.compile(r"\((\d{4}-\d{2}-\d{2})")  # provenance strings read "source (date; ...)"


class MissingPrices(PriceNotFoundError):
    """Every price a site lacks, found in one pass, with the partial cost of what is priced."""

    def __init__(self, site: str, missing: list[str], partial: SiteCost):
        self.missing = missing
        self.partial = partial
        lines = "\n".join(f"  - {m}" for m in missing)
        super().__init__(f"site {site}: {len(missing)} price(s) missing (priced part "
                         f"${partial.monthly_usd:,.2f}/month):\n{lines}")


def _term_rate(row: ComputeRow, term: str, catalog: Catalog, usage: Usage | None = None
               ) -> tuple[float, str, str]:
    """(usd_per_hour, source, note) for one term, or PriceNotFoundError naming what is missing."""
    what = f"{row.provider} {row.region} {row.instance_type}"
    if term == "on-demand":
        return row.ondemand_usd_per_hour, row.provenance, "on-demand list price"
    if term == "spot":
        if row.spot_usd_per_hour is None:
            raise PriceNotFoundError(f"{what}: no spot price in the snapshot; give "
                                     "price_override.terms.spot (or usd_per_hour) with a "
                                     "reason, or use term on-demand")
        return row.spot_usd_per_hour, row.provenance, f"{SPOT_CAVEAT}; {row.notes or ''}".strip()
    usage = usage or Usage()
    c = commitments.find(catalog, row, int(term[0]), usage.commitment,
                         usage.commitment_payment)
    return c.usd_per_hour, c.row.provenance, c.note


def term_rates(site: Site, catalog: Catalog | None = None,
               usage: Usage | None = None) -> list[TermRate]:
    """Every term's compute rate for a site, with 'not available' reasons instead of errors."""
    catalog = catalog or load_catalog()
    if not isinstance(site, CloudSite):
        return [TermRate(term=t, usd_per_hour=site.hourly_usd, source="stated in the scenario")
                for t in TERMS]
    row = site_compute_row(site, catalog)
    out = []
    for t in TERMS:
        try:
            rate, source, _ = _term_rate(row, t, catalog, usage)
            out.append(TermRate(term=t, usd_per_hour=rate, source=source))
        except PriceNotFoundError as e:
            out.append(TermRate(term=t, usd_per_hour=None, source=f"not available: {e}"))
    return out


def _compute(site: CloudSite, usage: Usage, term: str,
             catalog: Catalog) -> tuple[CostComponent, str | None, list[str]]:
    ov = site.price_override
    months = TERM_MONTHS[term]
    committed = months > 1
    hours = (HOURS_PER_MONTH_COMMITTED if committed else usage.hours_per_month) * usage.instances
    hours_note = ("commitments bill every hour of the term (730 h/month) whatever the usage"
                  if committed else f"{usage.hours_per_month:g} h/month")
    try:
        row: ComputeRow | None = site_compute_row(site, catalog)
    except PriceNotFoundError:
        if ov is None or ov.usd_per_hour is None or site.instance_type is None:
            raise
        row = None
    itype = row.instance_type if row else site.instance_type
    name = f"compute {itype} x{usage.instances} ({term})"
    caveats: list[str] = []
    quoted = ov.compute_rate(term) if ov is not None else None
    if ov is not None and quoted is not None:
        note = f"catalog on-demand {row.ondemand_usd_per_hour}/h" if row else "not in catalog"
        comp = _component(name, hours, "instance-hours", quoted,
                          f"price_override: {ov.reason}", "override", "compute",
                          f"{hours_note}; {note}; quoted for {term}", months)
        return comp, itype, caveats
    if row is None:
        raise PriceNotFoundError(f"{site.provider} {site.region} {itype}: no {term} price in "
                                 "the snapshot and price_override.terms has none for it")
    assert row is not None
    rate, source, note = _term_rate(row, term, catalog, usage)
    if term == "spot":
        caveats.append(f"{SPOT_CAVEAT} ({row.notes})" if row.notes else SPOT_CAVEAT)
    if committed:
        c = commitments.find(catalog, row, months // 12, usage.commitment,
                             usage.commitment_payment)
        caveats += [x for x in [commitments.upfront_caveat(c, usage.instances, term)] if x]
    comp = _component(name, hours, "instance-hours", rate, source, "catalog", "compute",
                      f"{hours_note}; {note}; CPU {row.generation}", months,
                      confidence=_compute_confidence(row, term, catalog, usage))
    return comp, itype, caveats


def _compute_confidence(row: ComputeRow, term: str, catalog: Catalog,
                        usage: Usage) -> str | None:
    if term in ("1y", "3y"):
        return commitments.find(catalog, row, int(term[0]), usage.commitment,
                                usage.commitment_payment).row.confidence
    return row.confidence


def _sud(site: CloudSite, usage: Usage, term: str, compute: CostComponent,
         itype: str | None) -> list[CostComponent]:
    """GCP sustained-use discount on on-demand hours of eligible series (docs/pricing.md)."""
    if (site.provider != "gcp" or term != "on-demand" or not usage.sustained_use_discount
            or compute.label != "catalog" or itype is None):
        return []
    mult = sud_multiplier(itype, usage.hours_per_month)
    if mult is None or mult >= 1:
        return []
    return [_component(f"GCP sustained-use discount ({itype})", compute.quantity, "instance-hours",
                       -(1 - mult) * compute.unit_price_usd,
                       "cloud.google.com/compute/docs/sustained-use-discounts (bands as in "
                       "docs/pricing.md)", "catalog", "discount",
                       f"{usage.hours_per_month:g} h/month: {100 * (1 - mult):.2f}% off the "
                       "on-demand rate", confidence="primary_page")]


def egress_components(provider: str, region: str, gb: float, catalog: Catalog,
                      destination: str = "default") -> list[CostComponent]:
    """One destination's tier ladder (scoring/tco_egress.py)."""
    return ladder(provider, region, gb, catalog, _component, destination)


def estimate_site(campaign: Campaign, site: Site | str, catalog: Catalog | None = None,
                  term: str | None = None) -> SiteCost:
    """Monthly and horizon cost of one site under the campaign's usage profile."""
    catalog = catalog or load_catalog()
    if isinstance(site, str):
        site = campaign.site(site)
    usage = campaign.usage
    term = term or usage.term
    if term not in TERMS:
        raise ValueError(f"term must be one of {', '.join(TERMS)}, got {term!r}")
    caveats: list[str] = []
    missing: list[str] = []
    if isinstance(site, CloudSite):
        components, itype, caveats, missing = _cloud_components(site, usage, term, catalog)
        if TERM_MONTHS[term] > 1:
            caveats.append(f"{term} commitment: every horizon is billed in whole {term} terms")
        if "disk_gb" not in site.model_fields_set:
            caveats.append("per-instance disks are not priced: set disk_gb on the site")
        labels = {c.label for c in components}
        label: Label = "override" if "override" in labels else "catalog"
        compute = next((c for c in components if c.kind == "compute"), None)
    else:
        itype = None
        hours = usage.hours_per_month * usage.instances
        compute = _component(f"{site.provider} site (stated) x{usage.instances}", hours,
                             "instance-hours", site.hourly_usd,
                             f"scenario: sites[{site.name}].hourly_usd", "stated", "compute",
                             "price stated by the scenario; term does not apply")
        components = [compute]
        caveats.append("stated price: storage, database and egress are not priced separately")
        label = "stated"
    horizons = sorted({1, 12, 36, usage.horizon_months})
    cost = SiteCost(site=site.name, provider=site.provider, region=site.region,
                    instance_type=itype, term=term, components=components,
                    monthly_usd=sum(c.monthly_usd for c in components),
                    hourly_usd=compute.unit_price_usd if compute else 0.0,
                    horizons={m: horizon_total(components, m) for m in horizons},
                    caveats=caveats, price_label=label)
    if missing:
        raise MissingPrices(site.name, missing, cost)
    return cost


def _cloud_components(site: CloudSite, usage: Usage, term: str, catalog: Catalog
                      ) -> tuple[list[CostComponent], str | None, list[str], list[str]]:
    """Every component of a cloud site; prices not found are collected, not raised one by one."""
    components: list[CostComponent] = []
    caveats: list[str] = []
    missing: list[str] = []
    itype = site.instance_type
    try:
        if not bills_pods(site):  # GKE Autopilot bills Pods, not nodes (tco_cluster.py)
            compute, itype, caveats = _compute(site, usage, term, catalog)
            components += [compute, *_sud(site, usage, term, compute, itype)]
    except PriceNotFoundError as e:
        missing.append(str(e))
    disks, miss = disk_parts(site, usage, catalog, _component)
    components += disks
    missing += miss
    try:
        components += database_parts(site, usage, catalog, term, _component)
        ov = site.price_override
        if (TERM_MONTHS[term] > 1 and site.database is not None and ov is not None
                and ov.db_usd_per_hour is not None and not ov.db_terms):
            caveats.append(f"database: price_override.db_usd_per_hour is applied to term "
                           f"{term} as stated; a {term} reserved quote goes in "
                           f"price_override.db_terms.{term} (with the reason)")
    except PriceNotFoundError as e:
        missing.append(str(e))
    db = site.database
    if db is not None and db.instance and not db.burstable:
        _, _, burst = db_shape(catalog, site.provider, site.region, db.instance, db.ha)
        if burst:
            caveats.append(f"database {db.instance} is a BURSTABLE class: not equivalent to "
                           "non-burstable classes elsewhere (set database.burstable: true to "
                           "compare burstable with burstable)")
    egress, egress_caveats, miss = egress_parts(site, usage, catalog, _component)
    components, caveats, missing = components + egress, caveats + egress_caveats, missing + miss
    services, miss = service_parts(site, usage, catalog, _component)
    components += services
    missing += miss
    cluster, miss = cluster_parts(site, usage, catalog, _component, term)  # tco_cluster.py
    components += cluster
    missing += miss
    functions, miss, fn_caveats = function_parts(site, usage, catalog, _component)
    components, missing, caveats = components + functions, missing + miss, caveats + fn_caveats
    if site.provider in usage.support:
        try:
            components.append(support_component(site, usage, catalog, _component,
                                                sum(c.monthly_usd for c in components)))
        except PriceNotFoundError as e:
            missing.append(str(e))
    if usage.support_pct:
        base = sum(c.monthly_usd for c in components)
        components.append(_component(f"support plan {usage.support_pct:g}%", base, "USD",
                                     usage.support_pct / 100, "scenario: usage.support_pct",
                                     "stated", "support", "stated percentage of the bill "
                                     "above; real plans have minimums and tiers"))
    return components, itype, caveats, missing


def estimate_campaign(campaign: Campaign, catalog: Catalog | None = None,
                      term: str | None = None) -> dict[str, SiteCost]:
    """Every site's cost; the first missing price stops it with an error naming the item."""
    catalog = catalog or load_catalog()
    return {s.name: estimate_site(campaign, s, catalog, term) for s in campaign.sites}
