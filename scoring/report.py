"""Report stage: one self-contained HTML page, a Markdown digest and the matrix as CSV.

The HTML has no external references: CSS is inline and every chart is a base64 PNG (the PNGs
are also written next to it for chat and slides). The view model built here is shared by both
templates so the page and the digest can never disagree.
"""

from __future__ import annotations

import base64
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bench.manifest_reads import busy_units
from scoring import charts, coldstart_chart, k8s_chart
from scoring.display import distinct_digits, fmt, fmt_value
from scoring.hdr_stats import merged_percentile_stat, percentile_fallback
from scoring.quantities import CRITERION_METRICS, per_repetition
from scoring.result import ScoreResult
from scoring.stats import MedianOf, Statistic, bootstrap_ci
from scoring.summary import decision, lead_lines, matrix_csv

TEMPLATES = Path(__file__).parent / "templates"
MAX_DISTRIBUTIONS = 12


def _env() -> Environment:
    # HTML is escaped; Markdown is not (escaping would print `&gt;=` in a pull request).
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=lambda name: bool(name) and ".html" in name,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = fmt
    env.filters["val"] = fmt_value
    return env


def _report_metrics(result: ScoreResult) -> list[str]:
    """Sample metrics behind the scored criteria and the requirements, in that order."""
    wanted = [m for spec in result.matrix.criteria for m in CRITERION_METRICS.get(spec.name, ())]
    wanted += [r.metric for r in result.requirements]
    return list(dict.fromkeys(wanted))


def measurements(result: ScoreResult) -> list[dict[str, Any]]:
    """Per metric and site: the statistic the matrix and requirements use (the merged-HDR
    percentile for latency percentiles with histograms, else the median over repetitions),
    its 95% bootstrap interval (NaN when fewer than 3 repetitions: noise unknown), count."""
    samples = result.samples
    rows: list[dict[str, Any]] = []
    if samples is None or samples.empty:
        return rows
    valid = samples[samples["valid"].astype(bool)]
    for metric in _report_metrics(result):
        per_site = {}
        for site in result.sites:
            reps = per_repetition(valid, site, metric)
            if reps.empty:
                continue
            stat: Statistic = (merged_percentile_stat(result.inputs.histograms, site, metric)
                               or MedianOf(tuple(float(v) for v in reps)))
            med, lo, hi = bootstrap_ci(stat)
            unit = valid[(valid["workload"] == metric.split(".")[0])
                         & (valid["metric"] == metric.split(".", 1)[1])]["unit"].iloc[0]
            per_site[site] = {"median": med, "lo": lo, "hi": hi, "n": stat.n, "unit": unit,
                              "values": [float(v) for v in reps],
                              "noise_known": not math.isnan(lo),
                              "statistic": percentile_fallback(
                                  metric, result.inputs.histograms, site)
                              or getattr(stat, "label", "median")}
        if per_site:
            rows.append({"metric": metric, "sites": per_site,
                         "unit": next(iter(per_site.values()))["unit"]})
    return rows


def cost_label(c: Any) -> str:
    """The price label plus its confidence; a secondary source is marked in capitals."""
    from scoring.catalog import STALE_DAYS
    from scoring.catalog_csv import CONFIDENCE_LABEL, confidence_level
    from scoring.catalog_load import load_catalog

    level = confidence_level(getattr(c, "confidence", None))
    out = f"{c.label}; {CONFIDENCE_LABEL[level]}" if level else c.label
    when = getattr(c, "price_date", None)
    if when:
        days = load_catalog().age_days(when) or 0
        stale = f", older than {STALE_DAYS} days" if days > STALE_DAYS else ""
        out += f"; {when} ({days} d{stale})"
    return out


def _cost_rows(result: ScoreResult) -> list[dict[str, Any]]:
    rows = []
    for site, cost in result.inputs.costs.items():
        for c in cost.components:
            rows.append({"site": site, "name": c.name, "quantity": c.quantity, "unit": c.unit,
                         "unit_price": c.unit_price_usd, "monthly": c.monthly_usd,
                         "label": cost_label(c), "source": c.source, "note": c.note})
    return rows


def _charts(result: ScoreResult, meas: list[dict[str, Any]]) -> list[charts.Chart]:
    m = result.matrix
    out = [charts.weighted_scores(m.sites, [c.label for c in m.criteria], list(m.weights),
                                  m.scores, m.totals, m.verdict.total_ci if m.verdict else None)]
    if result.inputs.costs:
        out.append(charts.cost_breakdown({s: {c.name: c.monthly_usd for c in cost.components}
                                          for s, cost in result.inputs.costs.items()}))
    if len(m.sites) > 1:
        out.append(charts.win_shares(result.sensitivity.mc_shares,
                                     result.sensitivity.mc_draws))
    cold_warm = coldstart_chart.cold_vs_warm(result.samples, m.sites)
    if cold_warm is not None:
        out.append(cold_warm)
    if (scale_chart := k8s_chart.timeline(result.samples, m.sites)) is not None:
        out.append(scale_chart)
    for row in meas[:MAX_DISTRIBUTIONS]:
        key = "dist-" + row["metric"].replace(".", "-").replace("_", "-")
        out.append(charts.distribution(key, row["metric"], row["unit"],
                                       {s: v["values"] for s, v in row["sites"].items()}))
    return out + _over_time(result)


def _over_time(result: ScoreResult) -> list[charts.Chart]:
    """Latency and rate over time per site, from http-load's per-interval histograms."""
    from bench.frames import interval_table

    hists = result.inputs.histograms
    if hists is None or hists.empty or "interval" not in hists.columns:
        return []
    table = interval_table(hists)
    table = table[table["endpoint"] == "all"]
    return [charts.over_time(site, table[table["site"] == site].to_dict("records"))
            for site in result.sites if (table["site"] == site).any()]


def left_out(manifest: dict[str, Any]) -> list[dict[str, str]]:
    """What units left out of their statistics (warm-up, saturated intervals), per unit."""
    out = []
    for key, unit in sorted((manifest.get("units") or {}).items()):
        for note in (unit.get("notes") or []) if isinstance(unit, dict) else []:
            out.append({"unit": key, "note": str(note)})
    return out


def _provenance(result: ScoreResult) -> list[tuple[str, str]]:
    man = result.manifest
    rows = [(k, str(man[k])) for k in ("campaign_id", "scenario", "bakeoff_version",
                                       "git_commit", "started_at", "finished_at", "status")
            if k in man]
    for k, v in sorted((man.get("tool_versions") or {}).items()):
        if isinstance(v, dict):  # per site: {site: {workload: version}}
            rows += [(f"tool version: {wl} on {k}", str(ver)) for wl, ver in sorted(v.items())]
        else:
            rows.append((f"tool version: {k}", str(v)))
    for k, v in sorted((man.get("machine") or {}).items()):
        rows.append((f"machine: {k}", str(v)))
    rows += cloud_provenance_rows(man)
    try:
        from scoring.catalog_load import load_catalog

        rows.append(("price catalog snapshot", load_catalog().snapshot_id))
    except Exception as e:  # the report still renders; the row says why
        rows.append(("price catalog snapshot", f"unavailable: {e}"))
    rows.append(("weights", result.weights_source))
    rows.append(("criteria", result.criteria_source))
    return rows


def cloud_provenance_rows(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """What ran on each cloud site, as the provider reported it at `up` (the manifest's
    sites.<site>.notes.provenance): instance id, type, zone, image, market per host; the
    database's kind, id and the zone its primary was put in."""
    rows = []
    for site, entry in sorted((manifest.get("sites") or {}).items()):
        prov = ((entry or {}).get("notes") or {}).get("provenance") or {}
        for role, h in sorted((prov.get("hosts") or {}).items()):
            image = " ".join(str(h[k]) for k in ("image", "image_name") if h.get(k))
            parts = [str(h.get(k)) for k in ("id", "instance_type", "zone") if h.get(k)]
            rows.append((f"{site}: {role}", ", ".join(
                [*parts, *([f"image {image}"] if image else []),
                 *([h["market"]] if h.get("market") else [])])))
        db = prov.get("database")
        if db:
            rows.append((f"{site}: database", ", ".join(
                f"{k} {db[k]}" for k in ("kind", "id", "zone") if db.get(k))))
    return rows


def view_model(result: ScoreResult) -> dict[str, Any]:
    """Everything the templates show, precomputed (templates only lay it out)."""
    m = result.matrix
    meas = measurements(result)
    chart_list = _charts(result, meas)
    reqs: dict[str, dict[str, Any]] = {}
    for r in result.requirements:
        reqs.setdefault(r.requirement, {})[r.site] = r
    sens = result.sensitivity
    label = {c.name: c.label for c in m.criteria}
    return {
        "r": result, "m": m, "sites": m.sites, "decision": decision(result),
        "lead_lines": lead_lines(m, m.leaders[0]) if m.leaders else [],
        "dropped": result.dropped,
        "total_digits": distinct_digits(m.totals.values()),
        "criteria": m.criteria, "cell": m.cell, "totals": m.totals,
        "total_ci": m.verdict.total_ci if m.verdict else {},
        "lead_ci": m.verdict.lead_ci if m.verdict else {},
        "requirements": reqs, "measurements": meas, "costs": result.inputs.costs,
        "cost_rows": _cost_rows(result), "cost_error": result.inputs.cost_error,
        "charts": chart_list,
        "chart_b64": {c.key: base64.b64encode(c.png).decode() for c in chart_list},
        "coldstart_why": coldstart_chart.WHY, "k8s_why": k8s_chart.WHY,
        "sens": sens, "label": label, "excluded": result.excluded,
        "preemptions": sorted(Counter(e["site"] for e in result.excluded
                                      if e["status"] == "preempted").items()),
        "busy": busy_units(result.manifest), "left_out": left_out(result.manifest),
        "provenance": _provenance(result), "notes": m.notes,
        "isnan": lambda x: x is None or (isinstance(x, float) and math.isnan(x)),
        "pct": lambda x: f"{100 * x:.1f}%",
        "topsis_rank": (sorted(sens.topsis, key=lambda s: -sens.topsis[s])
                        if sens.topsis else []),
        "np": np,
    }


def render_report(result: ScoreResult, out: str | Path) -> dict[str, Path]:
    """Write index.html, report.md, matrix.csv and charts/*.png into `out`."""
    from bench.results import atomic_write

    out = Path(out)
    vm = view_model(result)
    env = _env()
    paths = {"report_html": out / "index.html", "report_md": out / "report.md",
             "report_csv": out / "matrix.csv"}
    atomic_write(paths["report_html"], env.get_template("report.html.j2").render(**vm))
    atomic_write(paths["report_md"], env.get_template("report.md.j2").render(**vm))
    atomic_write(paths["report_csv"], matrix_csv(result))
    for chart in vm["charts"]:
        p = out / "charts" / f"{chart.key}.png"
        atomic_write(p, chart.png)
        paths[f"chart_{chart.key}"] = p
    return paths
