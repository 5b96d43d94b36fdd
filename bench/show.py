"""`bakeoff show`: median and spread per site and metric, with invalid runs called out."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from bench.preemption import preemptions_by_site
from bench.results import load_results


def summarise(samples: pd.DataFrame) -> pd.DataFrame:
    """Median, min, max, relative spread and count per (workload, metric, unit, site).

    Aggregated over valid rows only, and only the "all"/untagged rows for metrics broken
    down by endpoint or query, so that series don't mix (the breakdown is in the report
    and in samples.parquet).
    """
    valid = samples[samples["valid"]]
    if valid.empty:
        return pd.DataFrame(columns=["workload", "metric", "unit", "site", "median", "min",
                                     "max", "spread_pct", "n"])
    series = valid["metadata"].map(_series)
    valid = valid[series.isin(["", "all"])]
    grouped = valid.groupby(["workload", "metric", "unit", "site"], sort=True)["value"]
    table = grouped.agg(median="median", min="min", max="max", n="count").reset_index()
    table["spread_pct"] = (100 * (table["max"] - table["min"])
                           / table["median"].where(table["median"] != 0)).round(1)
    return table


def _series(meta: str) -> str:
    """The endpoint or query a sample belongs to ('' when it is not broken down)."""
    try:
        parsed = json.loads(meta or "{}")
    except ValueError:
        return ""
    return str(parsed.get("endpoint", parsed.get("query", "")))


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def render_summary(folder: Path, console: Console) -> None:
    results = load_results(folder)
    table_df = summarise(results.samples)
    sites = [s.name for s in results.campaign.sites]
    table = Table(title=f"{results.campaign_id}: median ±half the min–max range, n runs",
                  show_lines=False)
    table.add_column("workload")
    table.add_column("metric")
    table.add_column("unit")
    for site in sites:
        table.add_column(site, justify="right")
    for (workload, metric, unit), rows in table_df.groupby(["workload", "metric", "unit"]):
        cells = []
        for site in sites:
            row = rows[rows["site"] == site]
            if row.empty:
                cells.append("—")
                continue
            r = row.iloc[0]
            spread = "" if pd.isna(r["spread_pct"]) else f" ±{r['spread_pct'] / 2:.0f}%"
            cells.append(f"{_fmt(r['median'])}{spread} n={r['n']}")
        table.add_row(workload, metric, unit, *cells)
    console.print(table)
    manifest = results.manifest
    price = {s.name: getattr(s, "hourly_usd", None) for s in results.campaign.sites}
    for name, info in manifest.get("sites", {}).items():
        stated = f", stated price ${price[name]:.4f}/h" if price.get(name) is not None else ""
        console.print(f"  {name}: {info.get('instance_type')} network={info.get('network')}"
                      f"{stated}")
    _render_problems(manifest, console)


def busy_units(manifest: dict) -> list[dict]:
    """Units measured while the host was busy with other work (see bench.hostload).

    They stay in the results (the flag is information, not a verdict on the site), but
    their numbers may be lower than the site can do: `show` and the report list them.
    """
    out = []
    for key, unit in sorted((manifest.get("units") or {}).items()):
        if unit.get("busy"):
            site, workload, rep = [*key.split("/", 2), "", ""][:3]
            out.append({"key": key, "site": site, "workload": workload, "repetition": rep,
                        "reason": unit.get("busy_reason", "")})
    return out


def _render_problems(manifest: dict, console: Console) -> None:
    for b in busy_units(manifest):
        console.print(f"[yellow]BUSY[/yellow] {b['key']}: host busy with other work while "
                      f"measured: {b['reason']}")
    units = manifest.get("units", {})
    invalid = {k: u for k, u in units.items() if u.get("invalid_reason")}
    failed = {k: u for k, u in units.items() if u.get("status") == "failed"}
    pending = [k for k, u in units.items() if u.get("status") == "pending"]
    for key, unit in invalid.items():
        console.print(f"[yellow]INVALID[/yellow] {key}: {unit['invalid_reason']} "
                      "(kept, excluded from scoring)")
    for key, unit in failed.items():
        console.print(f"[red]FAILED[/red] {key}: {unit.get('error', '')}")
    for site, n in preemptions_by_site(manifest).items():
        console.print(f"[yellow]PREEMPTED[/yellow] {site}: {n} unit(s) lost to spot "
                      "interruptions (kept, excluded from scoring; a finding of the site)")
    if pending:
        console.print(f"[yellow]{len(pending)} unit(s) not run[/yellow] "
                      f"(campaign status: {manifest.get('status')})")
