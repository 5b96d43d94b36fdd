"""`bakeoff plan`: what a run would provision and execute, and what the option costs.

Cloud sites are previewed by running their Pulumi programs under mocks, offline
(bakeoff/cloudsites.py); the campaign's own cost (bakeoff/campaign_cost.py) is shown
beside the production TCO, with the budget it is checked against.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from bench.units import interleaved_units
from core.errors import BakeoffError
from core.scenario import Campaign, CloudSite, LocalSite
from core.tables import print_table_or_blocks, print_wrapped
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


# Typical time around the tool's own run, per unit (process start, a server to get ready, the
# parse and journal write), seen on the quickstart; per site, provisioning and teardown.
UNIT_OVERHEAD_S = {"http-load": 8.0, "db-query": 5.0, "fio": 3.0}
DEFAULT_UNIT_OVERHEAD_S = 1.5
SITE_OVERHEAD_S = {"local": 5.0, "static": 10.0}
CLOUD_SITE_OVERHEAD_S = 600.0  # VMs and a managed database: minutes, not seconds


def tool_seconds(name: str, params: Any) -> float:
    """How long the tool itself runs with these params (from their time fields)."""
    if name == "ping":
        return params.count * params.interval_s + params.wait_s
    if hasattr(params, "run_seconds"):  # http-load, k8s-time-to-scale: their load shape
        return params.run_seconds()
    total = 0.0
    for field in ("time_s", "duration_s", "runtime_s", "ramp_time_s", "omit_s"):
        total += float(getattr(params, field, 0) or 0)
    return total


def estimate_seconds(campaign: Campaign) -> float:
    """A rough wall-clock estimate of a run: every unit's tool time plus typical overheads."""
    from bench.scenarios import workload_params

    total = 0.0
    for unit in interleaved_units(campaign):
        name = unit.workload.name
        total += tool_seconds(name, workload_params(unit.workload))
        total += UNIT_OVERHEAD_S.get(name, DEFAULT_UNIT_OVERHEAD_S)
    for site in campaign.sites:
        extra = 5.0 if site.database is not None else 0.0
        total += SITE_OVERHEAD_S.get(site.provider, CLOUD_SITE_OVERHEAD_S) + extra
    return total


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def plan_records(campaign: Campaign) -> list[dict[str, str]]:
    """One row per site: what `plan` shows in its table (and --format csv prints)."""
    local = LocalProvisioner()
    rows = []
    for site in campaign.sites:
        if isinstance(site, LocalSite):
            resources = "; ".join(f"{r.kind}: {r.detail}" for r in local.plan(site, campaign))
        else:
            resources = "2 hosts in zones " + ", ".join(site.zones)
            if site.database:
                resources += "; managed PostgreSQL" + (" (HA)" if site.database.ha else "")
            if site.kubernetes:  # a cluster site (docs/kubernetes.md)
                k = site.kubernetes
                nodes = ("Pods billed by request" if k.autoscaler == "autopilot"
                         else f"{k.min_nodes}..{k.max_nodes} nodes")
                resources += (f"; {dict(aws='EKS', azure='AKS', gcp='GKE')[site.provider]} "
                              f"{k.version}, {nodes} ({k.autoscaler})")
        rows.append({"site": site.name, "provider": site.provider, "region": site.region,
                     "shape": _shape(site), "resources": resources,
                     "per month (usage)": _monthly(campaign, site)})
    return rows


def render_plan(campaign: Campaign, console: Console) -> None:
    """The plan in the terminal's width: values wrap between words; an id, a price source
    or a command is never cut or broken (core.tables.wrap_words)."""
    records = plan_records(campaign)
    rows = [[r["site"], r["provider"] if r["provider"] == r["region"] else
             f"{r['provider']} {r['region']}", r["shape"], r["resources"],
             r["per month (usage)"]] for r in records]
    print_table_or_blocks(console, f"plan for '{campaign.name}'",
                          ("site", "where", "shape", "resources", "per month (usage)"), rows)
    units = interleaved_units(campaign)
    print_wrapped(console, f"{len(units)} unit(s) of work: "
                  + ", ".join(f"{w.name}×{w.repetitions or campaign.repetitions}"
                              for w in campaign.workloads)
                  + f" on {len(campaign.sites)} site(s), interleaved across sites")
    print_wrapped(console, f"estimated duration: about {_duration(estimate_seconds(campaign))} "
                  "(the tools' own run times plus typical start-up and provisioning overheads)")
    if any(isinstance(s, CloudSite) for s in campaign.sites):
        render_cloud_preview(campaign, console)
    from bakeoff.cli_load import render_sizing

    render_sizing(campaign, console)  # raises when a load-generator fleet is too small


def render_cloud_preview(campaign: Campaign, console: Console) -> None:
    """The resources each cloud program declares (under mocks) and the campaign's cost."""
    from bakeoff.campaign_cost import CampaignCost, campaign_costs
    from bakeoff.cloudsites import preview_sites, resolve_campaign
    from bakeoff.plan_functions import render_function_cost

    costs = campaign_costs(resolve_campaign(campaign))
    total, unpriced = 0.0, 0
    for entry in preview_sites(campaign):
        head = f"{entry['site']} ({entry['provider']} {entry['region']})"
        if entry.get("error"):
            print_wrapped(console, f"{head}: {entry['error']}", subsequent="  ",
                          style="yellow")
        else:
            counts: dict[str, int] = {}
            for r in entry["resources"]:
                counts[r["type"]] = counts.get(r["type"], 0) + 1
            print_wrapped(console, f"{head}: {len(entry['resources'])} resource(s): "
                          + ", ".join(f"{t} x{n}" for t, n in sorted(counts.items())),
                          subsequent="  ")
        render_function_cost(entry, console)  # bakeoff/plan_functions.py
        usd = entry["estimated_campaign_usd"]
        if usd is None:
            unpriced += 1
            print_wrapped(console, f"campaign cost: {entry.get('cost_error')}", "  ", "    ",
                          style="red")
            continue
        total += usd
        print_wrapped(console, f"campaign cost: ${usd:,.2f} (instance- and database-hours "
                      "for the run; see docs/clouds.md)", "  ", "    ")
        cost = costs.get(entry["site"])
        if isinstance(cost, CampaignCost):
            for what, hourly, source in cost.parts:
                print_wrapped(console, f"{what}: ${hourly:,.4f}/h x {cost.hours:g} h "
                              f"({source})", "    ", "      ")
    over = campaign.budget_usd is not None and total > campaign.budget_usd
    budget = "" if campaign.budget_usd is None else (
        f" (budget_usd ${campaign.budget_usd:,.2f}" + (", over budget)" if over else ")"))
    missing = f"; {unpriced} site(s) not priced (see above)" if unpriced else ""
    print_wrapped(console, f"estimated cost of this campaign's cloud sites: ${total:,.2f}"
                  f"{budget}{missing}; resources expire {campaign.ttl_minutes} min after the "
                  "start (bakeoff-expires-at tag)", style="red" if over or unpriced else None)
    from bakeoff.campaign_cost import ttl_problems

    for problem in ttl_problems(campaign):  # `run` refuses these
        print_wrapped(console, f"TTL too short: {problem}", subsequent="  ", style="red")


def plan_json(campaign: Campaign) -> dict:
    from bakeoff.campaign_cost import ttl_problems
    from bakeoff.cloudsites import preview_sites

    out: dict = {"sites": preview_sites(campaign)}
    problems = ttl_problems(campaign)
    if problems:  # only when there is one: goldens of campaigns that fit stay as they are
        out["ttl_problems"] = problems
    return out
