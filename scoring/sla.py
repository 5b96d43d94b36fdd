"""SLA risk: availability -> downtime -> revenue at risk, minus the credits the SLA pays.

Formulas (docs/pricing.md):
  composite SLA      = product of the SLAs of every part the usage profile provisions: the
                       VMs (multi-zone or single-instance tier), the load balancer when
                       `usage.load_balancer` is true, the managed database (HA or not)
  basis              = min(composite SLA, `sla.expected_availability_pct`) when the scenario
                       states what it expects, else the composite SLA: money at risk follows
                       the lower of what is promised and what is expected
  downtime per month = (1 - basis) x 43,800 min (the 730-hour billing month); per year
                       = (1 - basis) x 525,600 min (8,760 h)
  money at risk      = downtime per month x revenue per minute (scenario `sla` block)
  expected credit    = sum over the parts of credit % at the expected availability x that
                       part's bill; a credit is paid only below the SLA, so it is 0 when
                       nothing is stated (SLA assumed met)
  net risk           = max(0, money at risk - expected credit)
A part with no SLA (e.g. Cloud SQL zonal) makes the whole site "no SLA": availability, money
at risk and net risk are None (shown "no SLA", scored worst), never 0 and never dropped from
the product, which would make removing HA look safer.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from core.scenario import Campaign, CloudSite, LocalSite, StaticSite
from scoring.catalog import Catalog, SlaRow
from scoring.catalog_load import load_catalog
from scoring.tco import SiteCost, estimate_site

MINUTES_PER_MONTH = 730 * 60  # 43,800: the same 730-hour month the bills use
MINUTES_PER_YEAR = 8760 * 60  # 525,600


class SlaComponent(BaseModel):
    service: str
    tier: str
    covered: bool
    availability_pct: float | None
    first_credit_pct: float
    monthly_bill_usd: float
    expected_credit_usd: float
    source: str
    applies_when: str


class SlaRisk(BaseModel):
    site: str
    provider: str
    availability_pct: float | None = Field(description="composite SLA; None: a part has none")
    downtime_min_month: float | None = Field(description="at the basis (min of SLA and "
                                             "expected availability); None: no SLA")
    downtime_min_year: float | None
    revenue_per_minute_usd: float
    money_at_risk_month_usd: float | None = Field(description="None: no SLA (worst), never 0")
    expected_credit_month_usd: float
    net_risk_month_usd: float | None = Field(description="None: no SLA (worst), never 0")
    basis_pct: float | None = Field(None, description="the availability the risk uses")
    basis: str = Field("SLA", description="'SLA', 'expected availability' or 'no SLA'")
    sla_downtime_min_month: float | None = Field(None, description="what the SLA allows")
    source: str
    components: list[SlaComponent]
    caveats: list[str]
    uncovered: list[str] = Field(default_factory=list,
                                 description="services with no SLA: availability excludes them")


def allowed_downtime(availability_pct: float) -> tuple[float, float]:
    """(minutes per 730-hour month, minutes per 8,760-hour year) an SLA level allows."""
    unavailable = 1 - availability_pct / 100
    return unavailable * MINUTES_PER_MONTH, unavailable * MINUTES_PER_YEAR


def credit_pct(row: SlaRow, uptime_pct: float) -> float:
    """Credit % the SLA pays for a month at `uptime_pct` (0 when the SLA was met)."""
    if not row.covered or row.availability_pct is None or uptime_pct >= row.availability_pct:
        return 0.0
    for floor, pct in row.credit_tiers:
        if uptime_pct >= floor:
            return pct
    return row.credit_tiers[-1][1]


def compute_tier(site: CloudSite, instances: int) -> str:
    """Multi-zone SLAs need instances running in two or more zones at once."""
    return "multi_zone" if len(site.zones) >= 2 and instances >= 2 else "single_instance"


def lb_tier(site: CloudSite) -> str:
    """A load balancer spread over two or more zones has the multi-zone SLA."""
    return "multi_zone" if len(site.zones) >= 2 else "single_zone"


def _component(row: SlaRow, bill: float, expected: float | None) -> SlaComponent:
    first = row.credit_tiers[0][1] if row.covered else 0.0
    pct = credit_pct(row, expected) if expected is not None else 0.0
    return SlaComponent(service=row.service, tier=row.tier, covered=row.covered,
                        availability_pct=row.availability_pct, first_credit_pct=first,
                        monthly_bill_usd=bill, expected_credit_usd=pct / 100 * bill,
                        source=f"{row.source_url} (recorded {row.recorded}; {row.confidence})",
                        applies_when=row.applies_when)


def sla_risk(campaign: Campaign, site: LocalSite | StaticSite | CloudSite | str,
             catalog: Catalog | None = None, cost: SiteCost | None = None) -> SlaRisk | None:
    """SLA risk for a cloud site; None for local and static sites (no provider SLA applies)."""
    if isinstance(site, str):
        site = campaign.site(site)
    if not isinstance(site, CloudSite):
        return None
    catalog = catalog or load_catalog()
    cost = cost or estimate_site(campaign, site, catalog)
    instances = campaign.usage.instances
    rows = [(catalog.sla(site.provider, "compute", compute_tier(site, instances)),
             cost.monthly_by_kind("compute", "storage", "iops"))]
    if campaign.usage.load_balancer:
        rows.append((catalog.sla(site.provider, "load_balancer", lb_tier(site)),
                     sum(c.monthly_usd for c in cost.components
                         if c.name.startswith("load balancer"))))
    if site.database is not None:
        rows.append((catalog.sla(site.provider, "managed_postgresql",
                                 "ha" if site.database.ha else "single"),
                     cost.monthly_by_kind("database", "database_storage")))
    expected = campaign.sla.expected_availability_pct
    components = [_component(r, bill, expected) for r, bill in rows]
    caveats: list[str] = []
    availability = 1.0
    uncovered: list[str] = []
    for c in components:
        if c.covered and c.availability_pct is not None:
            availability *= c.availability_pct / 100
        else:
            uncovered.append(f"{c.service}/{c.tier}")
            caveats.append(f"{c.service} ({c.applies_when}) has no SLA: the site as a whole "
                           "has no SLA (scored worst)")
    if len([c for c in components if c.covered]) > 1:
        caveats.append("availability is the product of the services' SLAs (all must be up)")
    if campaign.sla.revenue_per_minute_usd == 0:
        caveats.append("sla.revenue_per_minute_usd is 0 in the scenario: money at risk is 0")
    if expected is None:
        caveats.append("expected credit 0: credits are paid only below the SLA and "
                       "sla.expected_availability_pct is not stated")
    credit = sum(c.expected_credit_usd for c in components)
    if uncovered:
        return SlaRisk(site=site.name, provider=site.provider, availability_pct=None,
                       downtime_min_month=None, downtime_min_year=None,
                       revenue_per_minute_usd=campaign.sla.revenue_per_minute_usd,
                       money_at_risk_month_usd=None, expected_credit_month_usd=credit,
                       net_risk_month_usd=None, basis_pct=None, basis="no SLA",
                       source="; ".join(c.source for c in components), components=components,
                       caveats=caveats, uncovered=uncovered)
    pct = availability * 100
    basis, basis_pct = "SLA", pct
    if expected is not None and expected < pct:
        basis, basis_pct = "expected availability", expected
        caveats.append(f"money at risk follows the expected availability {expected:g}%, "
                       f"below the {pct:.4g}% SLA")
    month_min, year_min = allowed_downtime(basis_pct)
    risk = month_min * campaign.sla.revenue_per_minute_usd
    return SlaRisk(site=site.name, provider=site.provider, availability_pct=pct,
                   downtime_min_month=month_min, downtime_min_year=year_min,
                   revenue_per_minute_usd=campaign.sla.revenue_per_minute_usd,
                   money_at_risk_month_usd=risk, expected_credit_month_usd=credit,
                   net_risk_month_usd=max(0.0, risk - credit), basis_pct=basis_pct,
                   basis=basis, sla_downtime_min_month=allowed_downtime(pct)[0],
                   source="; ".join(c.source for c in components), components=components,
                   caveats=caveats, uncovered=uncovered)
