"""`bakeoff show`: every measured metric per site with the statistics the report uses.

One row per workload, metric and series (endpoint or query), one column per site. A value
is the median over valid repetitions, except latency percentiles backed by HDR histograms,
which are the percentile of the exact merge of every valid repetition; either way with the
95% bootstrap interval of that same statistic (scoring.stats, scoring.hdr_stats; none with
fewer than 3 repetitions). These are the functions the report and the requirements call, so
`show`, `score` and the report print the same number for the same thing.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench.results import CampaignResults, load_results, resolve_campaign_dir
from bench.show import render_problems, render_sites
from scoring.hdr_stats import MergedPercentile, merged_percentile_stat, percentile_fallback
from scoring.stats import MedianOf, Statistic, bootstrap_ci

COLUMNS = ("workload", "metric", "series", "unit", "site", "statistic", "value", "ci_low",
           "ci_high", "n")


def _meta(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        out = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return out if isinstance(out, dict) else {}


def _series(meta: dict[str, Any]) -> str:
    return str(meta.get("endpoint", meta.get("query", "")))


def statistics(results: CampaignResults) -> pd.DataFrame:
    """The long table behind `show` (also its json and csv output): COLUMNS, one row per
    workload, metric, series, unit and site."""
    samples = results.samples
    valid = samples[samples["valid"].astype(bool)].copy() if not samples.empty else samples
    if valid.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    valid["series"] = valid["metadata"].map(lambda m: _series(_meta(m)))
    order = {s.name: i for i, s in enumerate(results.campaign.sites)}
    out: list[dict[str, Any]] = []
    keys = ["workload", "metric", "series", "unit", "site"]
    for (workload, metric, series, unit, site), rows in valid.groupby(keys, sort=True):
        reps = rows.groupby("repetition")["value"].mean().sort_index().to_numpy(dtype=float)
        where = {"endpoint": series} if series else None
        stat: Statistic = (merged_percentile_stat(results.histograms, site,
                                                  f"{workload}.{metric}", where)
                           or MedianOf(tuple(float(v) for v in reps)))
        med, lo, hi = bootstrap_ci(stat)
        statistic = "HDR merge" if isinstance(stat, MergedPercentile) else (
            "median (no HDR)" if percentile_fallback(f"{workload}.{metric}", results.histograms,
                                                     site, where) else "median")
        out.append({"workload": workload, "metric": metric, "series": series, "unit": unit,
                    "site": site, "statistic": statistic, "value": med, "ci_low": lo,
                    "ci_high": hi, "n": stat.n})
    frame = pd.DataFrame(out, columns=list(COLUMNS))
    frame["_site_order"] = frame["site"].map(order).fillna(len(order))
    frame = frame.sort_values(["workload", "metric", "series", "_site_order"], kind="stable")
    return frame.drop(columns="_site_order").reset_index(drop=True)


def fmt_number(v: float) -> str:
    """Three significant digits, thousands separated: the same digits in every row."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def _cell(row: pd.Series) -> str:
    value = fmt_number(row["value"]) + {"HDR merge": "*", "median (no HDR)": "†"}.get(
        row["statistic"], "")
    if row["n"] < 2 or math.isnan(row["ci_low"]) or math.isnan(row["ci_high"]):
        return f"{value}\nn={row['n']}, noise unknown"
    return f"{value}\n[{fmt_number(row['ci_low'])}–{fmt_number(row['ci_high'])}] n={row['n']}"


def render_table(frame: pd.DataFrame, sites: list[str], title: str, console: Console) -> None:
    """Metrics as rows under their workload (endpoints and queries as rows of their own),
    sites as columns; long names fold onto the next line instead of being cut."""
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("metric", overflow="fold", min_width=12)
    with_series = bool((frame["series"] != "").any()) if not frame.empty else False
    if with_series:
        table.add_column("endpoint / query", overflow="fold", min_width=10)
    table.add_column("unit", overflow="fold")
    for site in sites:
        table.add_column(site, justify="right", overflow="fold")
    previous = None
    for (workload, metric, series, unit), rows in frame.groupby(
            ["workload", "metric", "series", "unit"], sort=False):
        if workload != previous:
            if previous is not None:
                table.add_section()
            table.add_row(f"[bold]{escape(workload)}[/bold]")
            previous = workload
        by_site = {r["site"]: _cell(r) for _, r in rows.iterrows()}
        lead = [escape(metric), escape(series)] if with_series else [escape(metric)]
        table.add_row(*lead, escape(unit), *[by_site.get(s, "—") for s in sites])
    console.print(table)
    console.print("value, [95% bootstrap interval of that value over the valid repetitions], "
                  "n = repetitions (fewer than 3: noise unknown, no interval); * = percentile "
                  "of the exact merge of every valid repetition's HDR histogram (the value "
                  "scoring and requirements use)", highlight=False, markup=False)
    if not frame.empty and (frame["statistic"] == "median (no HDR)").any():
        console.print("† = the exact HDR merge is unavailable (no valid histograms in "
                      "histograms.parquet): median of the repetitions' own percentiles instead; "
                      "`bakeoff verify` says why", highlight=False, markup=False)
    missing = [s for s in sites if frame.empty or s not in set(frame["site"])]
    if missing:
        console.print(f"no valid samples for site(s) {', '.join(missing)} in samples.parquet "
                      "(— in every row); `bakeoff verify` says whether rows were lost",
                      highlight=False, markup=False)


def render_summary(folder: Path, console: Console) -> None:
    """The table, the sites and the problems of one campaign folder (used by `run`)."""
    results = load_results(folder)
    sites = [s.name for s in results.campaign.sites]
    render_table(statistics(results), sites, f"{results.campaign_id}", console)
    render_sites(results, console)
    render_problems(results.manifest, console)
    render_disqualified(folder, console)


def render_disqualified(folder: Path, console: Console) -> None:
    """Sites the last scoring disqualified (a failed hard requirement), from scores.json."""
    stored = folder / "scores" / "scores.json"
    try:
        dq = json.loads(stored.read_text(encoding="utf-8"))["decision"].get("disqualified")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return
    for site, why in (dq or {}).items():
        console.print(f"{site} is DISQUALIFIED (cannot win): fails {'; '.join(why)}",
                      highlight=False, markup=False)


def show_campaign(ref: str, root: Path | None, fmt: str, console: Console) -> None:
    """`bakeoff show REF`: resolve the campaign in the results root, print in `fmt`."""
    from bakeoff import crash

    folder = resolve_campaign_dir(ref, root)
    crash.note_campaign_dir(folder)  # a crash report goes beside the campaign
    if fmt == "table":
        if ref == "latest":
            console.print(f"latest campaign in {folder.parent}/: {folder.name}",
                          highlight=False, markup=False)
        render_summary(folder, console)
        return
    frame = statistics(load_results(folder))
    frame.insert(0, "campaign_id", folder.name)
    if fmt == "json":
        print(json.dumps(json.loads(frame.to_json(orient="records")), indent=1))
    else:
        print(frame.to_csv(index=False), end="")
