"""What the campaign itself costs to run on the clouds, before anything is created.

Formula (documented in docs/clouds.md): a cloud site lives for
    hours = provisioning overhead + one site's units (sites run in parallel),
where a unit takes its workload's stated run time (time_s, runtime_s, duration_s, or
count x interval_s for ping) plus UNIT_OVERHEAD_S, and the overhead is the time to create
and destroy the site (longer with a managed database). The site's cost is
    hours x (server + client + load generators' hourly prices + database hourly price),
with every price from the catalog snapshot (or the scenario's labelled override). Disks
and egress are left out: for a few hours they are cents, and the report says so.
A missing price is an error, never $0.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import BakeoffError, PriceNotFoundError
from core.scenario import Campaign, CloudSite, WorkloadSpec

UNIT_OVERHEAD_S = 30.0
PROVISION_OVERHEAD_H = 0.25  # create + destroy VMs
DATABASE_OVERHEAD_H = 0.5  # a managed PostgreSQL takes 10-20 minutes each way
DEFAULT_UNIT_S = 60.0


@dataclass(frozen=True)
class CampaignCost:
    site: str
    hours: float
    hourly_usd: float
    usd: float
    parts: list[tuple[str, float, str]]  # (what, usd per hour, source)


def unit_seconds(spec: WorkloadSpec) -> float:
    """A workload unit's expected wall time from its params."""
    p = spec.params
    if "count" in p and spec.name == "ping":
        run = float(p["count"]) * float(p.get("interval_s", 0.05))
    else:
        run = next((float(p[k]) for k in ("time_s", "runtime_s", "duration_s") if k in p),
                   DEFAULT_UNIT_S)
    return run + UNIT_OVERHEAD_S


def campaign_hours(campaign: Campaign, site: CloudSite) -> float:
    units = sum(unit_seconds(w) * (w.repetitions or campaign.repetitions)
                for w in campaign.workloads)
    overhead = PROVISION_OVERHEAD_H + (DATABASE_OVERHEAD_H if site.database else 0.0)
    return overhead + units / 3600.0


def site_campaign_cost(campaign: Campaign, site: CloudSite) -> CampaignCost:
    """Raises PriceNotFoundError naming the missing price."""
    from scoring.catalog import load_catalog
    from scoring.equivalents import site_compute_row

    catalog = load_catalog()
    row = site_compute_row(site, catalog)
    parts = [(f"{row.instance_type} x2 (server, client)", 2 * row.ondemand_usd_per_hour,
              row.source)]
    if site.loadgen:
        lg_type = site.loadgen_instance_type or row.instance_type
        lg = catalog.compute(site.provider, site.region, lg_type)
        parts.append((f"{lg_type} x{site.loadgen} (load generators)",
                      site.loadgen * lg.ondemand_usd_per_hour, lg.source))
    if site.database is not None:
        parts.append(_database_part(site, catalog))
    hourly = sum(p[1] for p in parts)
    hours = campaign_hours(campaign, site)
    return CampaignCost(site.name, round(hours, 3), hourly, round(hours * hourly, 2), parts)


def _database_part(site: CloudSite, catalog) -> tuple[str, float, str]:
    db = site.database
    assert db is not None
    ov = site.price_override
    if ov is not None and ov.db_usd_per_hour is not None:
        return (f"database {db.instance or ''}".strip(), ov.db_usd_per_hour,
                f"price_override: {ov.reason}")
    if db.instance is None:
        from stacks.cloud.resolve import DEFAULT_DB_CLASS

        instance = DEFAULT_DB_CLASS[site.provider]
    else:
        instance = db.instance
    price = catalog.managed_db(site.provider, site.region, instance, db.ha)
    return (f"database {instance}{' HA' if db.ha else ''}", price.usd_per_hour, price.source)


def campaign_costs(campaign: Campaign) -> dict[str, CampaignCost | str]:
    """Per cloud site: its cost, or the message saying which price is missing."""
    out: dict[str, CampaignCost | str] = {}
    for site in campaign.sites:
        if isinstance(site, CloudSite):
            try:
                out[site.name] = site_campaign_cost(campaign, site)
            except (PriceNotFoundError, BakeoffError) as e:
                out[site.name] = f"price missing: {e}"
    return out


def check_budget(campaign: Campaign) -> float:
    """The campaign's estimate; raises when it exceeds budget_usd or cannot be priced."""
    costs = campaign_costs(campaign)
    missing = [f"{k}: {v}" for k, v in costs.items() if isinstance(v, str)]
    total = sum(c.usd for c in costs.values() if isinstance(c, CampaignCost))
    if campaign.budget_usd is not None:
        if missing:
            raise BakeoffError("budget_usd is set but the campaign cannot be priced: "
                               + "; ".join(missing))
        if total > campaign.budget_usd:
            raise BakeoffError(
                f"the campaign's estimated cost ${total:,.2f} exceeds budget_usd "
                f"${campaign.budget_usd:,.2f}; raise budget_usd, cut repetitions or "
                "workload durations, or use smaller types (see `bakeoff plan`)")
    return total
