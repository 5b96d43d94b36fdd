"""`bakeoff plan`'s per-request cost of a function site: the TCO's function components.

The components come from scoring/tco_functions.py through the site's TCO (so plan and
`bakeoff tco` show the same lines); a price the snapshot lacks is listed as "price not
found", and the function's monthly figure is then marked incomplete, never a silent $0.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from core.errors import BakeoffError
from core.scenario import Campaign, CloudSite


def function_cost(campaign: Campaign, site: CloudSite) -> dict[str, Any]:
    """{"function_cost": {...}} for a function site, {} for any other site."""
    if site.serverless is None:
        return {}
    from scoring.tco import MissingPrices, estimate_site

    missing: list[str] = []
    try:
        cost = estimate_site(campaign, site)
    except MissingPrices as e:
        cost = e.partial
        missing = [m for m in e.missing if m.startswith("function ")]
    except BakeoffError as e:
        return {"function_cost": {"error": str(e)}}
    comps = [{"name": c.name, "quantity": round(c.quantity, 6), "unit": c.unit,
              "unit_price_usd": c.unit_price_usd, "monthly_usd": round(c.monthly_usd, 4),
              "source": c.source, "note": c.note}
             for c in cost.components if c.kind == "function"]
    f = campaign.usage.functions
    return {"function_cost": {
        "profile": {"requests_per_month": f.requests_per_month, "duration_ms": f.duration_ms,
                    "memory_mb": site.serverless.memory_for(site.provider),
                    "free_tier": f.free_tier},
        "components": comps, "missing": missing,
        "monthly_usd": None if missing else round(sum(c["monthly_usd"] for c in comps), 4)}}


def render_function_cost(entry: dict[str, Any], console: Console) -> None:
    fc = entry.get("function_cost")
    if not fc:
        return
    if fc.get("error"):
        console.print(f"  function cost: [red]{escape(fc['error'])}[/red]")
        return
    p = fc["profile"]
    total = fc["monthly_usd"]
    head = (f"${total:,.2f}/month" if total is not None
            else "[red]incomplete: price not found[/red]")
    console.print(f"  function cost per usage profile ({p['requests_per_month']:,.0f} "
                  f"requests/month x {p['duration_ms']:g} ms at {p['memory_mb']} MB, free "
                  f"tier {'on' if p['free_tier'] else 'off'}): {head}", highlight=False)
    for c in fc["components"]:
        console.print(f"    {escape(c['name'])}: {c['quantity']:,.0f} {escape(c['unit'])} x "
                      f"${c['unit_price_usd']:.8g} = ${c['monthly_usd']:,.4f} "
                      f"[dim]({escape(c['note'])}; {escape(c['source'])})[/dim]",
                      highlight=False)
    for m in fc["missing"]:
        console.print(f"    [red]{escape(m)}[/red]", highlight=False)
