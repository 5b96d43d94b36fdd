"""`bakeoff plan`: what a run would provision and execute, without running anything."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from bench.campaign import Campaign, LocalSite
from bench.orchestrator import interleaved_units
from stacks.local import LocalProvisioner


def render_plan(campaign: Campaign, console: Console) -> None:
    table = Table(title=f"plan for '{campaign.name}'")
    for col in ("site", "provider", "region", "shape", "resources"):
        table.add_column(col)
    local = LocalProvisioner()
    for site in campaign.sites:
        if isinstance(site, LocalSite):
            shape = f"{site.cpus} CPU envelope, ${site.hourly_usd}/h (stated)"
            resources = "; ".join(f"{r.kind}: {r.detail}" for r in local.plan(site, campaign))
        else:
            shape = getattr(site, "instance_type", None) or str(getattr(site, "size", ""))
            resources = "2 hosts in zones " + ", ".join(site.zones)
        table.add_row(site.name, site.provider, site.region, shape, resources)
    console.print(table)
    units = interleaved_units(campaign)
    console.print(f"{len(units)} unit(s) of work: "
                  + ", ".join(f"{w.name}×{w.repetitions or campaign.repetitions}"
                              for w in campaign.workloads)
                  + f" on {len(campaign.sites)} site(s), interleaved across sites")
