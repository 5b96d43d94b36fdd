"""`bakeoff calibrate` and the load-generator sizing shown by `plan`.

calibrate measures this machine's load-generator ceiling for each locustfile the
scenario's http-load workloads use (bench.calibrate) and stores it in the state
directory; `plan` then sizes every site's load generators from it (bakeoff.sizing).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bakeoff.sizing import HEADROOM, describe, size_campaign, too_small
from core.errors import BakeoffError
from core.scenario import Campaign

out = Console()


def calibrate(
    scenario: Path = typer.Argument(..., help="scenario YAML with an http-load workload"),
    duration: int = typer.Option(30, "--duration", help="seconds per locustfile (8-1800)"),
) -> None:
    """Measure this machine's load-generator ceiling for the scenario's locustfile(s).

    One Locust process on one core, against a local nginx, users raised until its CPU
    demand reaches the saturation guard's 90 %: users and requests/s per core, stored with
    the machine's facts in the state directory ($BAKEOFF_STATE_DIR), where `plan` and
    `loadgen: auto` find them.

    Example: bakeoff calibrate scenarios/poc-web-db.yaml --duration 30
    """
    from bakeoff.checks import preflight
    from bakeoff.sizing import load_needs
    from bench.calibrate import calibrate as measure

    campaign = preflight(scenario)
    needs = load_needs(campaign)
    if not needs:
        raise BakeoffError(f"{scenario}: no http-load workload, nothing to calibrate")
    for locustfile in dict.fromkeys(n.locustfile for n in needs):
        cal, path = measure(locustfile, duration)
        bound = "" if cal.reached_limit else (" [yellow](time ran out before the limit: a "
                                              "lower bound; give a longer --duration)[/yellow]")
        out.print(f"{escape(cal.locustfile)}: {cal.users_per_core} users and "
                  f"{cal.rps_per_core:g} req/s per core at {cal.cpu_demand_at_ceiling:g}% CPU "
                  f"demand (limit {cal.cpu_limit:g}%){bound}\n  stored in {path}",
                  highlight=False)


def render_sizing(campaign: Campaign, console: Console) -> None:
    """The load-generator sizing table; raises when a site's fleet is too small."""
    from core.scenario import CloudSite

    sizings = size_campaign(campaign)
    if not sizings or not (any(s.calibration for s in sizings)
                           or any(isinstance(s, CloudSite) for s in campaign.sites)):
        return  # nothing to size from, and no VMs to size
    table = Table(title=f"load generators (from the calibrated ceiling, {HEADROOM:.0%} "
                  "headroom)")
    for col in ("site", "http-load", "cores needed", "VMs needed", "fleet", "verdict"):
        table.add_column(col)
    for s in sizings:
        need = (f"{s.need.rate_rps:g} req/s" if s.need.rate_rps is not None
                else f"{s.need.users} users")
        style = {"too small": "red", "no headroom": "yellow"}.get(s.verdict, "")
        verdict = f"[{style}]{s.verdict}[/{style}]" if style else s.verdict
        table.add_row(s.site, need, f"{s.cores}" if s.calibration else "-",
                      f"{s.vms}" if s.vcpus_per_vm else "-", s.fleet or "-", verdict)
    console.print(table)
    for s in sizings:
        console.print(f"  {s.site}: {escape(describe(s))}", highlight=False)
    small = too_small(sizings)
    if small:
        raise BakeoffError("load-generator fleet too small for the scenario: " + "; ".join(
            f"{s.site} has {s.fleet_cores} core(s), needs {s.cores} ({s.cores_at_ceiling:.2f} "
            "at the measured ceiling): " + (
                "raise `loadgen`, use a larger loadgen_instance_type, or `loadgen: auto`"
                if s.vcpus_per_vm else "fewer users, or a machine with more cores")
            for s in small))


def register(app: typer.Typer) -> None:
    app.command()(calibrate)
