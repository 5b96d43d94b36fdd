"""What the campaign itself costs to run on the clouds, before anything is created.

Formula (documented in docs/clouds.md): a cloud site lives for
    hours = provisioning overhead + one site's units (sites run in parallel),
where a unit takes its workload's stated run time (time_s, runtime_s, duration_s, or
count x interval_s for ping) plus UNIT_OVERHEAD_S, and the overhead is the time to create
and destroy the site (longer with a managed database). The site's cost is
    hours x (server + client + load generators' hourly prices + database hourly price),
with every price from the catalog snapshot (or the scenario's labelled override). A VM's
price is its market's: on-demand, or for a `spot: true` site the catalog's spot rate for
every VM (load generators too), labelled with the spot caveat. Disks and egress are left
out: for a few hours they are cents, and the report says so. A cluster site (`kubernetes:`)
adds its control plane, nodes, load balancer and NAT (bakeoff/cluster_cost.py) and half
an hour of creation and deletion. A missing price (a spot
site's missing spot price included) is an error, never $0 and never another market's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bakeoff.cluster_cost import CLUSTER_OVERHEAD_H, cluster_parts
from core.errors import BakeoffError, PriceNotFoundError
from core.scenario import Campaign, CloudSite, WorkloadSpec

if TYPE_CHECKING:
    from scoring.catalog_rows import ComputeRow

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
    overhead += CLUSTER_OVERHEAD_H if site.kubernetes is not None else 0.0
    return overhead + units / 3600.0


def site_campaign_cost(campaign: Campaign, site: CloudSite) -> CampaignCost:
    """Raises PriceNotFoundError naming the missing price."""
    from scoring.catalog_load import load_catalog
    from scoring.equivalents import site_compute_row

    catalog = load_catalog()
    ov = site.price_override  # the scenario's own $/h for its type on its market, if any
    quoted = ov.compute_rate("spot" if site.spot else "on-demand") if ov else None
    try:
        row: ComputeRow | None = site_compute_row(site, catalog)
    except PriceNotFoundError:
        if quoted is None or site.instance_type is None:
            raise
        row = None  # not in the snapshot, but the scenario quotes its price
    itype = row.instance_type if row else str(site.instance_type)
    rate, source, how = _vm_rate(site, itype, row, quoted)
    parts = [(f"{itype} x2 (server, client){how}", 2 * rate, source)]
    if site.loadgen:
        lg_type = site.loadgen_instance_type or itype
        if lg_type != itype:  # the override quotes the site's own type only
            rate, source, how = _vm_rate(
                site, lg_type, catalog.compute(site.provider, site.region, lg_type), None)
        parts.append((f"{lg_type} x{site.loadgen} (load generators){how}",
                       site.loadgen * rate, source))
    if site.database is not None:
        parts.append(_database_part(site, catalog))
    hours = campaign_hours(campaign, site)
    if site.kubernetes is not None:  # control plane, nodes, LB, NAT (bakeoff/cluster_cost.py)
        parts += cluster_parts(campaign, site, catalog, itype, hours)
    hourly = sum(p[1] for p in parts)
    return CampaignCost(site.name, round(hours, 3), hourly, round(hours * hourly, 2), parts)


def _vm_rate(site: CloudSite, itype: str, row: ComputeRow | None,
             quoted: float | None) -> tuple[float, str, str]:
    """(usd per hour, source, label suffix) for one VM of `itype` on the site's market.

    Every VM of a spot site is a spot VM (the three programs ask for spot on every role,
    load generators included), so all are priced at the catalog's spot rate; a spot
    price the snapshot lacks is an error, never a silent on-demand price.
    """
    from scoring.tco import SPOT_CAVEAT

    caveat = f" ({SPOT_CAVEAT})" if site.spot else ""
    if quoted is not None:
        assert site.price_override is not None
        return (quoted, f"price_override: {site.price_override.reason}",
                f", {'spot' if site.spot else 'on-demand'} rate quoted by price_override{caveat}")
    assert row is not None
    if not site.spot:
        return row.ondemand_usd_per_hour, row.source, ""
    if row.spot_usd_per_hour is None:
        raise PriceNotFoundError(
            f"site {site.name} runs spot VMs (spot: true), but the snapshot has no spot "
            f"price for {itype} in {site.provider} {site.region}; give "
            "price_override.terms.spot (or price_override.usd_per_hour) with a reason, "
            "or set spot: false to run and price on-demand VMs")
    return (row.spot_usd_per_hour, f"{row.source} (spot_usd_per_hour)",
            f", spot rate{caveat}")


def _database_part(site: CloudSite, catalog) -> tuple[str, float, str]:
    db = site.database
    assert db is not None
    ov = site.price_override
    if ov is not None and (rate := ov.db_rate("on-demand")) is not None:
        return (f"database {db.instance or ''}".strip(), rate,
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


def ttl_problems(campaign: Campaign) -> list[str]:
    """Cloud sites whose estimated life (campaign_hours: creation, every unit, deletion)
    exceeds ttl_minutes. Each VM powers itself off at the TTL and gc may delete what has
    expired, so such a campaign would be cut short; `plan` warns, `run` refuses."""
    out = []
    for site in campaign.sites:
        if isinstance(site, CloudSite):
            minutes = campaign_hours(campaign, site) * 60
            if minutes > campaign.ttl_minutes:
                out.append(f"site {site.name}: about {minutes:.0f} min (creation, units, "
                           f"deletion) exceeds ttl_minutes {campaign.ttl_minutes}; its VMs "
                           "power themselves off at the TTL. Raise ttl_minutes to at least "
                           f"{int(minutes * 1.25) + 1}, or cut repetitions or durations")
    return out


def check_ttl(campaign: Campaign) -> None:
    problems = ttl_problems(campaign)
    if problems:
        raise BakeoffError("the campaign would outlive its TTL:\n  " + "\n  ".join(problems))
