"""The parts of `bakeoff show` that need no statistics: the sites as provisioned and the units
that do not count (invalid, failed, not run). The statistics table is bakeoff.show, which may
use scoring's statistic functions."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from bench.hostload import site_lines
from bench.manifest_reads import busy_units as busy_units  # kept importable here
from bench.manifest_reads import preemptions_by_site


def render_sites(results: Any, console: Console) -> None:
    """One line per site: what was provisioned, the network, the stated price."""
    price = {s.name: getattr(s, "hourly_usd", None) for s in results.campaign.sites}
    for name, info in results.manifest.get("sites", {}).items():
        stated = f", stated price ${price[name]:.4f}/h" if price.get(name) is not None else ""
        console.print(f"  {name}: {info.get('instance_type')} network={info.get('network')}"
                      f"{stated}", highlight=False, markup=False)


def render_problems(manifest: dict, console: Console) -> None:
    """Invalid units (kept, excluded from scoring), failed units and units never run."""
    for line in site_lines(manifest):  # one line per site; `show --format json` has each unit
        console.print(f"[yellow]BUSY[/yellow] {escape(line)}", soft_wrap=True)
    units = manifest.get("units", {})
    invalid = {k: u for k, u in units.items() if u.get("invalid_reason")}
    failed = {k: u for k, u in units.items() if u.get("status") == "failed"}
    pending = [k for k, u in units.items() if u.get("status") == "pending"]
    for key, unit in invalid.items():
        console.print(f"[yellow]INVALID[/yellow] {escape(key)}: "
                      f"{escape(str(unit['invalid_reason']))} (kept, excluded from scoring)")
    for key, unit in failed.items():
        console.print(f"[red]FAILED[/red] {escape(key)}: {escape(str(unit.get('error', '')))}")
    for site, n in preemptions_by_site(manifest).items():
        console.print(f"[yellow]PREEMPTED[/yellow] {site}: {n} unit(s) lost to spot "
                      "interruptions (kept, excluded from scoring; a finding of the site)")
    if pending:
        console.print(f"[yellow]{len(pending)} unit(s) not run[/yellow] "
                      f"(campaign status: {escape(str(manifest.get('status')))})")


_render_problems = render_problems  # the name callers used before show moved its table out
