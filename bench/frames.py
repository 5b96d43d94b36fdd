"""Tidy pandas views of one campaign folder, for notebooks, history and comparisons.

samples.parquet keeps `params` and `metadata` as JSON text (exact, schema-stable); these
views parse them into columns, turn times into timestamps, compute latency percentiles
from the merged HDR histograms, and read the scoring stage's scores.json as rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bench import hdr

DEFAULT_PERCENTILES = (50.0, 90.0, 99.0, 99.9)


def _parse(text: Any) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text) if isinstance(text, str) and text else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def tidy_samples(samples: pd.DataFrame) -> pd.DataFrame:
    """Samples with params and metadata parsed, metadata keys as columns, timestamps.

    Each metadata key (`endpoint`, `threads`, `job`, ...) becomes a column of its own name,
    prefixed `metadata_` when a context column has that name; `params` holds the parsed
    workload params as a dict per row (select with `df.params.str["threads"]`).
    """
    out = samples.copy()
    out["params"] = [_parse(v) for v in samples["params"]]
    out["metadata"] = [_parse(v) for v in samples["metadata"]]
    out["started_at"] = pd.to_datetime(samples["started_at"], utc=True, errors="coerce")
    for key in sorted({k for d in out["metadata"] for k in d}):
        column = key if key not in out.columns else f"metadata_{key}"
        if column not in out.columns:
            out[column] = [d.get(key) for d in out["metadata"]]
    return out


# Workloads whose latency percentiles come with HDR histograms; the same tuple as
# scoring.hdr_stats.HDR_WORKLOADS (bench does not import scoring; a test keeps them equal).
HDR_WORKLOADS = ("http-load", "db-query")


def hdr_percentile(workload: str, metric: str) -> float | None:
    """`latency_p99` of an HDR workload -> 99.0 (`latency_p999` -> 99.9); None otherwise."""
    if workload not in HDR_WORKLOADS:
        return None
    if metric in hdr.REPORTED_PERCENTILES:
        return hdr.REPORTED_PERCENTILES[metric]
    digits = metric[9:] if metric.startswith("latency_p") else ""
    if not digits.isdigit():
        return None
    return float(digits) if len(digits) <= 2 else float(digits[:2] + "." + digits[2:])


def median_label(workload: str, metric: str) -> str:
    """What a median over repetitions of this metric is, in words: for a latency percentile
    of an HDR workload it is not the exact merge that show, score and report use."""
    pct = hdr_percentile(workload, metric)
    if pct is None:
        return "median of the repetitions"
    return f"median of repetitions' p{pct:g} (no exact HDR merge)"  # fits a pandas cell


def _mergeable(group: pd.DataFrame) -> bool:
    try:
        return hdr.merge(group["encoded"]).get_total_count() > 0
    except (ValueError, TypeError):  # HdrDecodeError is a ValueError
        return False


def hdr_fallbacks(samples: pd.DataFrame, histograms: pd.DataFrame) -> list[str]:
    """One line per site and HDR workload whose latency percentiles have valid samples but
    no valid, decodable histogram to merge (histograms.parquet missing, junked or without
    that site): the statistic then falls back to the median of the repetitions' own
    percentiles, and a notebook must say so rather than switch silently. Same words as
    the report's (scoring.hdr_stats.percentile_fallback)."""
    if samples is None or samples.empty:
        return []
    valid = samples[samples["valid"].astype(bool)]
    wanted = sorted({(r.site, r.workload, r.metric) for r in valid.itertuples()
                     if hdr_percentile(r.workload, r.metric) is not None})
    usable: set[tuple[str, str]] = set()
    if histograms is not None and not histograms.empty:
        rows = histograms[histograms["valid"].astype(bool)]
        if "interval" in rows.columns:
            rows = rows[rows["interval"].isna()]
        usable = {(site, workload) for (site, workload), group
                  in rows.groupby(["site", "workload"], sort=True) if _mergeable(group)}
    lines = []
    for site, workload in sorted({(s, w) for s, w, _ in wanted} - usable):
        metrics = ", ".join(m for s, w, m in wanted if (s, w) == (site, workload))
        lines.append(f"{workload} at {site}: the exact HDR merge is unavailable (no valid "
                     f"histograms for this site in histograms.parquet); {metrics} are the "
                     "median of the repetitions' own percentiles")
    return lines


def latency_table(histograms: pd.DataFrame,
                  percentiles: Sequence[float] = DEFAULT_PERCENTILES) -> pd.DataFrame:
    """Per site, workload and histogram (endpoint): count and percentiles in ms.

    Percentiles come from the merged HDR histogram of the valid repetitions, the same
    statistic the report scores, not from averaging per-repetition percentiles. Groups
    whose histograms do not decode are left out; `hdr_fallbacks` says which.
    """
    columns = ["site", "workload", "name", "unit", "repetitions", "count",
               *(f"p{p:g}" for p in percentiles)]
    if histograms.empty:
        return pd.DataFrame(columns=columns)
    valid = histograms[histograms["valid"].astype(bool)]
    if "interval" in valid.columns:  # latency over time: see interval_table
        valid = valid[valid["interval"].isna()]
    rows = []
    for (site, workload, name), group in valid.groupby(["site", "workload", "name"], sort=True):
        try:
            merged = hdr.merge(group["encoded"])
        except (ValueError, TypeError):  # junk blobs: hdr_fallbacks names site and workload
            continue
        row: dict[str, Any] = {"site": site, "workload": workload, "name": name,
                               "unit": "ms", "repetitions": int(group["repetition"].nunique()),
                               "count": int(merged.get_total_count())}
        for p in percentiles:
            row[f"p{p:g}"] = merged.get_value_at_percentile(p) / 1000.0
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


INTERVAL_COLUMNS = ["site", "workload", "repetition", "endpoint", "interval", "offset_s",
                    "covered_s", "requests", "errors", "rps", "users", "intended_users",
                    "intended_rps", "late_sends", "loadgen_cpu_peak",
                    "loadgen_cpu_demand_peak", "excluded", "p50", "p99", "valid"]


def interval_table(histograms: pd.DataFrame) -> pd.DataFrame:
    """Latency over time: one row per repetition, endpoint and interval (http-load), with
    the interval's exact p50/p99 (ms), counts, active and intended users or rate, CPU, and
    why it was left out of the unit's statistics (`excluded`: warm-up, saturated)."""
    if histograms.empty or "interval" not in histograms.columns:
        return pd.DataFrame(columns=INTERVAL_COLUMNS)
    rows = []
    for row in histograms[histograms["interval"].notna()].to_dict("records"):
        meta = _parse(row["metadata"])
        hist = hdr.decode(row["encoded"])
        n = hist.get_total_count()
        out = {c: meta.get(c) for c in INTERVAL_COLUMNS}
        out.update(site=row["site"], workload=row["workload"],
                   repetition=int(row["repetition"]), interval=int(row["interval"]),
                   valid=bool(row["valid"]),
                   p50=hist.get_value_at_percentile(50) / 1000.0 if n else None,
                   p99=hist.get_value_at_percentile(99) / 1000.0 if n else None)
        rows.append(out)
    return pd.DataFrame(rows, columns=INTERVAL_COLUMNS)


def read_scores(folder: Path) -> dict[str, Any] | None:
    """scores/scores.json as written by the scoring stage, or None when not scored."""
    path = Path(folder) / "scores" / "scores.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def scores_table(scores: dict[str, Any] | None) -> pd.DataFrame:
    """One row per site and criterion: score and measured value, with the site's total."""
    columns = ["site", "criterion", "score", "value", "unit", "weight", "total", "rank",
               "leader", "tie"]
    if not scores:
        return pd.DataFrame(columns=columns)
    totals = scores.get("totals") or {}
    ranking = list(scores.get("ranking") or [])
    decision = scores.get("decision") or {}
    weights = {c.get("name"): c.get("weight") for c in scores.get("criteria") or []
               if isinstance(c, dict)}
    rows = []
    for cell in scores.get("cells") or []:
        if not isinstance(cell, dict):
            continue
        site = cell.get("site")
        rows.append({"site": site, "criterion": cell.get("criterion"),
                     "score": cell.get("score"), "value": cell.get("value"),
                     "unit": cell.get("unit"), "weight": weights.get(cell.get("criterion")),
                     "total": totals.get(site),
                     "rank": ranking.index(site) + 1 if site in ranking else None,
                     "leader": decision.get("leader"), "tie": decision.get("tie")})
    return pd.DataFrame(rows, columns=columns)


def costs_table(scores: dict[str, Any] | None) -> pd.DataFrame:
    """One row per site and cost component, with its price source and label."""
    columns = ["site", "provider", "region", "term", "component", "kind", "quantity", "unit",
               "unit_price_usd", "monthly_usd", "source", "label", "confidence",
               "price_snapshot", "price_snapshot_date"]
    if not scores or not isinstance(scores.get("costs"), dict):
        return pd.DataFrame(columns=columns)
    snapshot = scores.get("price_snapshot") or {}
    rows = []
    for site, cost in scores["costs"].items():
        if not isinstance(cost, dict):
            continue
        for comp in cost.get("components") or []:
            rows.append({"site": site, "provider": cost.get("provider"),
                         "region": cost.get("region"), "term": cost.get("term"),
                         "component": comp.get("name"), "kind": comp.get("kind"),
                         "quantity": comp.get("quantity"), "unit": comp.get("unit"),
                         "unit_price_usd": comp.get("unit_price_usd"),
                         "monthly_usd": comp.get("monthly_usd"), "source": comp.get("source"),
                         "label": comp.get("label"), "confidence": comp.get("confidence"),
                         "price_snapshot": snapshot.get("id"),
                         "price_snapshot_date": snapshot.get("date")})
    return pd.DataFrame(rows, columns=columns)
