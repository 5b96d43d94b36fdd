"""Prometheus histograms from /metrics text: parse, difference two scrapes, estimate quantiles.

The service's DB-query histogram is cumulative since the service started; the
difference of a scrape before and after the load is what the load itself caused.
Quantiles from buckets are estimates (linear interpolation inside the bucket, as
PromQL's histogram_quantile does), so they are labelled `server_*` and kept apart from
the exact client-side HDR percentiles.
"""

from __future__ import annotations

import math
from typing import Any

from prometheus_client.parser import text_string_to_metric_families


def histograms(text: str, family: str) -> dict[str, dict[str, Any]]:
    """{label-key: {"buckets": {le: cumulative count}, "sum": s, "count": n}} for `family`."""
    out: dict[str, dict[str, Any]] = {}
    for fam in text_string_to_metric_families(text):
        if fam.name != family:
            continue
        for s in fam.samples:
            labels = {k: v for k, v in s.labels.items() if k != "le"}
            key = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
            entry = out.setdefault(key, {"labels": labels, "buckets": {}, "sum": 0.0,
                                         "count": 0.0})
            if s.name.endswith("_bucket"):
                entry["buckets"][s.labels["le"]] = entry["buckets"].get(s.labels["le"], 0) \
                    + s.value
            elif s.name.endswith("_sum"):
                entry["sum"] += s.value
            elif s.name.endswith("_count"):
                entry["count"] += s.value
    return out


def delta(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]],
          ) -> dict[str, dict[str, Any]]:
    """after − before, per label set (a series absent before counts from zero)."""
    out: dict[str, dict[str, Any]] = {}
    for key, a in after.items():
        b = before.get(key, {"buckets": {}, "sum": 0.0, "count": 0.0})
        buckets = {le: v - b["buckets"].get(le, 0.0) for le, v in a["buckets"].items()}
        count = a["count"] - b["count"]
        if count <= 0:
            continue
        out[key] = {"labels": a["labels"], "buckets": buckets, "sum": a["sum"] - b["sum"],
                    "count": count}
    return out


def quantile(entry: dict[str, Any], q: float) -> float:
    """Estimated q-quantile (0..1) in the histogram's unit (seconds)."""
    pairs = sorted(((math.inf if le == "+Inf" else float(le)), c)
                   for le, c in entry["buckets"].items())
    total = entry["count"]
    if total <= 0 or not pairs:
        return math.nan
    rank = q * total
    prev_le, prev_c = 0.0, 0.0
    for le, c in pairs:
        if c >= rank:
            if math.isinf(le):
                return prev_le
            if c == prev_c:
                return le
            return prev_le + (le - prev_le) * (rank - prev_c) / (c - prev_c)
        prev_le, prev_c = le, c
    return prev_le
