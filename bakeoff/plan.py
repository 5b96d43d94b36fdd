"""`bakeoff plan`: what a run would provision and execute, and what the option costs."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from bench.orchestrator import interleaved_units
from core.errors import BakeoffError
from core.scenario import Campaign, CloudSite, LocalSite
from stacks.local import LocalProvisioner


def _shape(site) -> str:
    if isinstance(site, LocalSite):
        return f"{site.cpus}-CPU envelope"
    if isinstance(site, CloudSite):
        from scoring.equivalents import site_compute_row

        try:
            row = site_compute_row(site)
        except BakeoffError as e:
            return f"not resolvable: {e}"
        asked = site.instance_type or (f"size {site.size.family}/{site.size.vcpus} vCPU"
                                       if site.size else "")
        return f"{row.instance_type} ({row.vcpus} vCPU, {row.memory_gib:g} GiB)" + (
            f" from {asked}" if site.size else "")
    return "your own hosts"


def _monthly(campaign: Campaign, site) -> str:
    from scoring.tco import estimate_site

    try:
        cost = estimate_site(campaign, site)
    except BakeoffError as e:
        return f"price missing: {e}"
    return f"${cost.monthly_usd:,.2f} ({cost.price_label})"


def render_plan(campaign: Campaign, console: Console) -> None:
    table = Table(title=f"plan for '{campaign.name}'")
    for col in ("site", "provider", "region", "shape", "resources", "per month (usage)"):
        table.add_column(col)
    local = LocalProvisioner()
    for site in campaign.sites:
        if isinstance(site, LocalSite):
            resources = "; ".join(f"{r.kind}: {r.detail}" for r in local.plan(site, campaign))
        else:
            resources = "2 hosts in zones " + ", ".join(site.zones)
            if site.database:
                resources += "; managed PostgreSQL" + (" (HA)" if site.database.ha else "")
        table.add_row(site.name, site.provider, site.region, _shape(site), resources,
                      _monthly(campaign, site))
    console.print(table)
    units = interleaved_units(campaign)
    console.print(f"{len(units)} unit(s) of work: "
                  + ", ".join(f"{w.name}×{w.repetitions or campaign.repetitions}"
                              for w in campaign.workloads)
                  + f" on {len(campaign.sites)} site(s), interleaved across sites")
