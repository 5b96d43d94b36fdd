"""CLI for the cost side: `bakeoff prices show|equivalents` and `bakeoff tco SCENARIO`.

Everything here works offline from the shipped snapshot. Errors are BakeoffError subclasses and
are printed by the main CLI wrapper.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bakeoff.cli_prices import short_source
from bench.scenarios import load_campaign_file
from core.errors import PriceNotFoundError
from core.scenario import Campaign, CloudSite, LocalSite, StaticSite
from scoring.catalog import Catalog
from scoring.catalog_csv import CONFIDENCE_LABEL, confidence_level
from scoring.sla import sla_risk
from scoring.tco import TERMS, CostComponent, MissingPrices, SiteCost, estimate_site, term_rates

_console = Console()  # the terminal's width: tables fold to fit
Site = LocalSite | StaticSite | CloudSite


class Fmt(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _money(v: float | None, digits: int = 2) -> str:
    return "n/a" if v is None else f"{_cents(v) if digits == 2 else v:,.{digits}f}"


def _conf(c: CostComponent) -> str:
    level = confidence_level(c.confidence)
    if c.label != "catalog":
        return c.label
    return "SECONDARY" if level == "secondary" else CONFIDENCE_LABEL.get(level, "unstated") \
        if level else "unstated"


def _site_table(cost: SiteCost, catalog: Catalog, campaign: Campaign, site: Site,
                missing: list[str] | None = None) -> None:
    title = (f"{cost.site}: {cost.provider} {cost.region} {cost.instance_type or ''} "
             f"term {cost.term} [{cost.price_label}]")
    from core.tables import print_fitted

    print_fitted(_console, ("component", "quantity", "unit", "unit $", "monthly $",
                            "confidence", "source"),
                 [(c.name, f"{c.quantity:,.6g}", c.unit, f"{c.unit_price_usd:g}",
                   _money(c.monthly_usd), _conf(c), short_source(c.source))
                  for c in cost.components],
                 drop=("confidence", "unit $", "quantity", "unit"), whole=(),
                 right=("quantity", "unit $", "monthly $"), title=title, title_justify="left")
    totals = ", ".join(f"{m} month{'s' if m > 1 else ''}: ${_money(v)}"
                       for m, v in cost.horizons.items())
    word = "PARTIAL total (priced parts only)" if missing else "total"
    _console.print(f"  {word} per month ${_money(cost.monthly_usd)}; {totals}")
    secondary = [c.name for c in cost.components if _conf(c) == "SECONDARY"]
    if secondary:
        _console.print(f"  [yellow]secondary sources[/yellow] (not the provider's API or "
                       f"page): {', '.join(secondary)}", soft_wrap=True)
    for m in missing or []:
        _console.print(f"  [red]missing price[/red]: {m}", soft_wrap=True)
    if missing:
        return
    for r in term_rates(site, catalog, campaign.usage):
        if r.term == cost.term:
            continue
        rate = f"${r.usd_per_hour:g}/h" if r.usd_per_hour is not None else r.source
        _console.print(f"  compute {r.term}: {rate}", soft_wrap=True)
    for c in cost.caveats:
        _console.print(f"  caveat: {c}", soft_wrap=True)
    if site.price_override is not None and cost.price_label == "override":
        _console.print(f"  override reason: {site.price_override.reason}", soft_wrap=True)
    risk = sla_risk(campaign, site, catalog, cost)
    if risk is None:
        _console.print("  SLA: not applicable (no provider SLA for this site)")
    elif risk.availability_pct is None:
        _console.print(f"  SLA: NO SLA for the site as a whole ({', '.join(risk.uncovered)} "
                       "has none): money at risk and net risk unknown (no SLA, the worst); "
                       "scored worst", soft_wrap=True)
    else:
        parts = " x ".join(f"{c.service}/{c.tier} {c.availability_pct:g}%"
                           for c in risk.components)
        _console.print(f"  SLA {risk.availability_pct:.4g}% ({parts}); risk at the "
                       f"{risk.basis} {risk.basis_pct:.4g}%: {risk.downtime_min_month:.2f} "
                       f"min/month, {risk.downtime_min_year:.1f} min/year; at "
                       f"${risk.revenue_per_minute_usd:g}/min ${risk.money_at_risk_month_usd:,.2f}"
                       f" at risk, expected credit ${risk.expected_credit_month_usd:,.2f}, net "
                       f"${risk.net_risk_month_usd:,.2f}/month", soft_wrap=True)
    for c in (risk.caveats if risk else []):
        _console.print(f"  SLA caveat: {c}", soft_wrap=True)
    if isinstance(site, CloudSite):
        from scoring.compliance import check

        res = check(site.provider, site.region, list(campaign.requires))
        _console.print(f"  compliance ({site.region}): {res.note}", soft_wrap=True)


def _cents(v: float) -> float:
    """Half-up to the cent on the decimal value (757.315 -> 757.32, not binary 757.31)."""
    return float(Decimal(repr(round(v, 9))).quantize(Decimal("0.01"), ROUND_HALF_UP))


def _csv(costs: list[SiteCost]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["site", "provider", "region", "instance_type", "term", "component", "kind",
                "quantity", "unit", "unit_price_usd", "monthly_usd", "label", "confidence",
                "source", "note"])
    for s in costs:
        for c in s.components:
            w.writerow([s.site, s.provider, s.region, s.instance_type or "", s.term, c.name,
                        c.kind, c.quantity, c.unit, c.unit_price_usd, f"{c.monthly_usd:.2f}",
                        c.label, c.confidence or "", c.source, c.note])
    return buf.getvalue()


def _round_money(d: object) -> object:
    """JSON money fields rounded to cents (unit prices keep their precision)."""
    if isinstance(d, dict):
        out = {}
        for k, v in d.items():
            money = isinstance(k, str) and k.endswith("_usd") and not k.startswith("unit_")
            if k == "horizons" and isinstance(v, dict):
                out[k] = {m: _cents(x) for m, x in v.items()}
            elif money and isinstance(v, float):
                out[k] = _cents(v)
            else:
                out[k] = _round_money(v)
        return out
    if isinstance(d, list):
        return [_round_money(x) for x in d]
    return d


def _totals_table(rows: list[tuple[str, str, dict[str, float | None]]], terms: list[str]) -> None:
    t = Table(title="totals per site and term, USD per month (n/a: a price is missing)",
              title_justify="left")
    t.add_column("site")
    t.add_column("region")
    for term in terms:
        t.add_column(term, justify="right")
    for name, region, by_term in rows:
        t.add_row(name, region, *[_money(by_term.get(term)) for term in terms])
    _console.print(t)


def _equivalence(campaign: Campaign, catalog: Catalog) -> None:
    """One line per cloud site: compute and database shapes, so unlike pairs are visible."""
    from scoring.equivalents import db_shape, site_compute_row

    shapes = []
    for s in campaign.sites:
        if not isinstance(s, CloudSite):
            continue
        try:
            r = site_compute_row(s, catalog)
            comp = (f"{r.instance_type} {r.vcpus} vCPU/{r.memory_gib:g} GiB {r.arch}, "
                    f"{r.generation}")
            key = [(r.vcpus, r.memory_gib, r.arch, r.era)]
        except PriceNotFoundError:
            comp, key = f"{s.instance_type or 'size'} (not in the snapshot)", [None]
        dbs = ""
        if s.database is not None and s.database.instance:
            v, m, b = db_shape(catalog, s.provider, s.region, s.database.instance,
                               s.database.ha)
            dbs = (f"; database {s.database.instance} {v or '?'} vCPU/"
                   f"{f'{m:g}' if m else '?'} GiB{' BURSTABLE' if b else ''}")
            key.append((v, m, b))
        shapes.append((s.name, comp + dbs, key))
    if not shapes:
        return
    _console.print("equivalence (compute and database shapes per site):")
    for name, text, _ in shapes:
        _console.print(f"  {name}: {text}", soft_wrap=True)
    if len({str(k) for _, _, k in shapes}) > 1:
        _console.print("  [yellow]shapes or CPU eras differ between sites[/yellow]: compare "
                       "with care "
                       "(`bakeoff prices equivalents --database` shows matching classes)",
                       soft_wrap=True)


def _by_term(campaign: Campaign, site: Site, catalog: Catalog) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for term in TERMS:
        try:
            out[term] = estimate_site(campaign, site, catalog, term).monthly_usd
        except PriceNotFoundError:
            out[term] = None
    return out


def tco(
    scenario: Path = typer.Argument(..., help="scenario YAML"),
    term: str | None = typer.Option(None, help=f"override usage.term: {', '.join(TERMS)}"),
    fmt: Fmt = typer.Option(Fmt.table, "--format", help="table, json or csv"),
    snapshot: Path | None = typer.Option(None, "--snapshot", help="a refreshed snapshot dir"),
    payment: str | None = typer.Option(None, help="override usage.commitment_payment: "
                                       "no_upfront, partial_upfront, all_upfront"),
    commitment: str | None = typer.Option(None, help="override usage.commitment: "
                                          "reservation or savings_plan"),
) -> None:
    """Price a scenario offline: components with source and confidence, every missing price,
    and a side-by-side table of totals per site and term.

    Example: bakeoff tco scenarios/poc-web-db.yaml --term 1y --format csv
    """
    from bakeoff.cli_prices import catalog_for, snapshot_banner

    if term is not None and term not in TERMS:
        raise typer.BadParameter(f"expected one of {', '.join(TERMS)}", param_hint="--term")
    campaign = load_campaign_file(scenario)
    for name, value, allowed in (
            ("commitment_payment", payment, ("no_upfront", "partial_upfront", "all_upfront")),
            ("commitment", commitment, ("reservation", "savings_plan"))):
        if value is not None and value not in allowed:
            raise typer.BadParameter(f"expected one of {', '.join(allowed)}",
                                     param_hint=f"--{name.split('_')[-1]}")
        if value is not None:
            setattr(campaign.usage, name, value)
    catalog = catalog_for(snapshot)
    priced: list[tuple[Site, SiteCost]] = []
    partial: list[tuple[Site, SiteCost, list[str]]] = []
    failed: dict[str, str] = {}
    for s in campaign.sites:
        try:
            priced.append((s, estimate_site(campaign, s, catalog, term)))
        except MissingPrices as e:
            partial.append((s, e.partial, e.missing))
            failed[s.name] = "; ".join(e.missing)
        except PriceNotFoundError as e:
            failed[s.name] = str(e)
    if fmt is Fmt.json:
        out: dict = {"scenario": str(scenario), "snapshot": catalog.snapshot_id,
                     "oldest_price": catalog.oldest_price_date(), "sites": {}}
        for s, cost in priced:
            d = cost.model_dump()
            d["terms"] = [r.model_dump() for r in term_rates(s, catalog, campaign.usage)]
            risk = sla_risk(campaign, s, catalog, cost)
            d["sla"] = risk.model_dump() if risk else None
            out["sites"][cost.site] = d
        for _, cost, missing in partial:
            out["sites"][cost.site] = {**cost.model_dump(), "missing": missing,
                                       "partial": True}
        for name, why in failed.items():
            out["sites"].setdefault(name, {"error": why})
        typer.echo(json.dumps(_round_money(out), indent=2))
    elif fmt is Fmt.csv:
        typer.echo(_csv([c for _, c in priced] + [c for _, c, _ in partial]), nl=False)
    else:
        u = campaign.usage
        _console.print(f"TCO for {campaign.name}. {snapshot_banner(catalog)}", soft_wrap=True)
        _console.print(f"usage: {u.instances} instance(s) x {u.hours_per_month:g} h/month, "
                       f"{u.egress_gb_per_month:g} GB egress, {u.storage_gb:g} GB extra storage,"
                       f" {u.provisioned_iops} IOPS", soft_wrap=True)
        for s, cost in priced:
            _site_table(cost, catalog, campaign, s)
        for s, cost, missing in partial:
            _site_table(cost, catalog, campaign, s, missing)
        for name, why in failed.items():
            if not any(c.site == name for _, c, _ in partial):
                _console.print(f"{name}: not available: {why}", soft_wrap=True)
        _equivalence(campaign, catalog)
        terms = [term] if term else list(TERMS)
        _totals_table([(s.name, s.region, _by_term(campaign, s, catalog)
                        if not term else {term: next((c.monthly_usd for x, c in priced
                                                      if x.name == s.name), None)})
                       for s in campaign.sites], terms)
    if failed:
        n = sum(len(m) for _, _, m in partial) + len(failed) - len(partial)
        raise PriceNotFoundError(f"{len(failed)} site(s) could not be fully priced "
                                 f"({n} missing price(s)): {', '.join(failed)} (listed above)")


def register(app: typer.Typer) -> None:
    """Add `prices ...` and `tco` to the bakeoff app."""
    from bakeoff import cli_prices

    prices = typer.Typer(help="Browse, refresh and compare price snapshots.",
                         no_args_is_help=True)
    cli_prices.register(prices)
    app.add_typer(prices, name="prices")
    app.command("tco")(tco)
