"""CLI for the cost side: `bakeoff prices show|equivalents` and `bakeoff tco SCENARIO`.

Everything here works offline from the shipped snapshot. Errors are BakeoffError subclasses and
are printed by the main CLI wrapper.
"""

from __future__ import annotations

import csv
import io
import json
import re
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bench.scenarios import load_campaign_file
from core.errors import PriceNotFoundError
from core.scenario import Campaign, CloudSite, LocalSite, StaticSite
from scoring.catalog import Catalog, load_catalog
from scoring.sla import sla_risk
from scoring.tco import TERMS, SiteCost, estimate_site, term_rates

_console = Console(width=160)
Site = LocalSite | StaticSite | CloudSite


class Fmt(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def short_source(source: str) -> str:
    """'owner/repo@<40 hex>:path/file.csv (date)' -> 'owner/repo@abcdef12:file.csv (date)'."""
    if source.startswith("price_override:"):
        return "price_override (reason below)"
    return re.sub(r"@([0-9a-f]{8})[0-9a-f]{32}:(?:[^ ;]*/)?([^/ ;]+)", r"@\1:\2", source)


def _money(v: float | None, digits: int = 2) -> str:
    return "n/a" if v is None else f"{v:,.{digits}f}"


def _site_table(cost: SiteCost, catalog: Catalog, campaign: Campaign, site: Site) -> None:
    title = (f"{cost.site}: {cost.provider} {cost.region} {cost.instance_type or ''} "
             f"term {cost.term} [{cost.price_label}]")
    t = Table(title=title, title_justify="left")
    for col in ("component", "quantity", "unit", "unit $", "monthly $", "label", "source"):
        t.add_column(col, justify="right" if col in ("quantity", "unit $", "monthly $")
                     else "left", overflow="fold")
    for c in cost.components:
        t.add_row(c.name, f"{c.quantity:,.6g}", c.unit, f"{c.unit_price_usd:g}",
                  _money(c.monthly_usd), c.label, short_source(c.source))
    _console.print(t)
    totals = ", ".join(f"{m} month{'s' if m > 1 else ''}: ${v:,.2f}"
                       for m, v in cost.horizons.items())
    _console.print(f"  total per month ${cost.monthly_usd:,.2f}; {totals}")
    for r in term_rates(site, catalog):
        if r.term == cost.term:
            continue
        rate = f"${r.usd_per_hour:g}/h" if r.usd_per_hour is not None else r.source
        _console.print(f"  compute {r.term}: {rate}", soft_wrap=True)
    for c in cost.caveats:
        _console.print(f"  caveat: {c}", soft_wrap=True)
    if site.price_override is not None and cost.price_label == "override":
        _console.print(f"  override reason: {site.price_override.reason}", soft_wrap=True)
    risk = sla_risk(campaign, site, catalog, cost)
    if risk is not None:
        _console.print(f"  SLA {risk.availability_pct:.4g}%: {risk.downtime_min_month:.2f} "
                       f"min/month, {risk.downtime_min_year:.1f} min/year allowed; at "
                       f"${risk.revenue_per_minute_usd:g}/min ${risk.money_at_risk_month_usd:,.2f}"
                       f" at risk, credit ${risk.expected_credit_month_usd:,.2f}, net "
                       f"${risk.net_risk_month_usd:,.2f}/month", soft_wrap=True)
        for c in risk.caveats:
            _console.print(f"  SLA caveat: {c}", soft_wrap=True)
    else:
        _console.print("  SLA: not applicable (no provider SLA for this site)")


def _csv(costs: list[SiteCost]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["site", "provider", "region", "instance_type", "term", "component", "kind",
                "quantity", "unit", "unit_price_usd", "monthly_usd", "label", "source", "note"])
    for s in costs:
        for c in s.components:
            w.writerow([s.site, s.provider, s.region, s.instance_type or "", s.term, c.name,
                        c.kind, c.quantity, c.unit, c.unit_price_usd, c.monthly_usd, c.label,
                        c.source, c.note])
    return buf.getvalue()


def tco(
    scenario: Path = typer.Argument(..., help="scenario YAML"),
    term: str | None = typer.Option(None, help=f"override usage.term: {', '.join(TERMS)}"),
    fmt: Fmt = typer.Option(Fmt.table, "--format", help="table, json or csv"),
) -> None:
    """Price a scenario offline: component breakdown, sources, monthly/1y/3y totals."""
    if term is not None and term not in TERMS:
        raise typer.BadParameter(f"expected one of {', '.join(TERMS)}", param_hint="--term")
    campaign = load_campaign_file(scenario)
    catalog = load_catalog()
    priced: list[tuple[Site, SiteCost]] = []
    failed: dict[str, str] = {}
    for s in campaign.sites:
        try:
            priced.append((s, estimate_site(campaign, s, catalog, term)))
        except PriceNotFoundError as e:
            failed[s.name] = str(e)
    if fmt is Fmt.json:
        out: dict = {"scenario": str(scenario), "snapshot": catalog.snapshot_id, "sites": {}}
        for s, cost in priced:
            d = cost.model_dump()
            d["terms"] = [r.model_dump() for r in term_rates(s, catalog)]
            risk = sla_risk(campaign, s, catalog, cost)
            d["sla"] = risk.model_dump() if risk else None
            out["sites"][cost.site] = d
        for name, why in failed.items():
            out["sites"][name] = {"error": why}
        typer.echo(json.dumps(out, indent=2))
    elif fmt is Fmt.csv:
        typer.echo(_csv([c for _, c in priced]), nl=False)
    else:
        u = campaign.usage
        _console.print(f"TCO for {campaign.name} (price snapshot {catalog.snapshot_id}; usage: "
                       f"{u.instances} instance(s) x {u.hours_per_month:g} h/month, "
                       f"{u.egress_gb_per_month:g} GB egress, {u.storage_gb:g} GB storage, "
                       f"{u.provisioned_iops} IOPS)")
        for s, cost in priced:
            _site_table(cost, catalog, campaign, s)
        for name, why in failed.items():
            _console.print(f"{name}: not available: {why}", soft_wrap=True)
    if failed:
        raise PriceNotFoundError(f"{len(failed)} site(s) could not be priced: "
                                 f"{', '.join(failed)} (reasons above)")


def register(app: typer.Typer) -> None:
    """Add `prices show`, `prices equivalents` and `tco` to the bakeoff app."""
    from scoring import cli_prices

    prices = typer.Typer(help="Browse, refresh and compare price snapshots.",
                         no_args_is_help=True)
    cli_prices.register(prices)
    app.add_typer(prices, name="prices")
    app.command("tco")(tco)
