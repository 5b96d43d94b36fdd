"""A latency percentile of merged HDR histograms, as a statistic of the repetitions.

The matrix scores `http_p99` as the p99 of the exact merge of every valid repetition's
histograms. To bootstrap that same statistic, each repetition's histogram is kept as a vector
of bucket counts; a resample's merged histogram is the multiplicity-weighted sum of those
vectors, and its percentile is read exactly as hdrhistogram's `get_value_at_percentile` does
(target count = int(p × total / 100 + 0.5), at least 1; the highest value equivalent to the
first bucket whose cumulative count reaches it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bench import hdr


@dataclass(frozen=True, eq=False)
class MergedPercentile:
    """Percentile (0–100] in ms of the merged histograms of the repetitions drawn."""

    counts: np.ndarray  # (repetitions, buckets): only buckets some repetition used
    values_ms: np.ndarray  # (buckets,): each bucket's highest equivalent value, in ms
    percentile: float
    repetitions: tuple[int, ...] = ()
    label: str = field(default="percentile of the merged HDR histograms")

    @property
    def n(self) -> int:
        return int(self.counts.shape[0])

    def __call__(self, multiplicities: np.ndarray) -> np.ndarray:
        m = np.atleast_2d(np.asarray(multiplicities, dtype=float))
        merged = m @ self.counts  # (draws, buckets); counts stay exact in float64 below 2**53
        total = merged.sum(axis=1)
        target = np.maximum(np.floor(self.percentile * total / 100 + 0.5), 1.0)
        reached = np.cumsum(merged, axis=1) >= target[:, None]
        out = self.values_ms[np.argmax(reached, axis=1)]
        return np.where(total > 0, out, np.nan)


def percentile_of(metric: str) -> float | None:
    """`latency_p99` → 99.0, `latency_p999` → 99.9 (as bench.hdr reads them); None otherwise."""
    if metric in hdr.REPORTED_PERCENTILES:
        return hdr.REPORTED_PERCENTILES[metric]
    if metric.startswith("latency_p") and metric[9:].isdigit():
        digits = metric[9:]
        return float(digits) if len(digits) <= 2 else float(digits[:2] + "." + digits[2:])
    return None


# Workloads whose latency percentiles come with HDR histograms (the exact merge is the norm).
HDR_WORKLOADS = ("http-load", "db-query")


def percentile_fallback(metric: str, histograms: pd.DataFrame | None, site: str,
                        where: Mapping[str, str] | None = None) -> str | None:
    """What a latency percentile of an HDR workload is computed with when the exact merge is
    unavailable (histograms.parquet missing, junked or without that site), said in words, so
    no surface switches statistic silently; None when the merge is available or not expected."""
    if "." not in metric:
        return None
    workload, name = metric.split(".", 1)
    pct = percentile_of(name)
    if workload not in HDR_WORKLOADS or pct is None:
        return None
    if merged_percentile_stat(histograms, site, metric, where) is not None:
        return None
    return (f"median of the repetitions' p{pct:g}: the exact HDR merge is unavailable "
            "(no valid histograms for this site in histograms.parquet)")


def merged_percentile_stat(histograms: pd.DataFrame | None, site: str, metric: str,
                           where: Mapping[str, str] | None = None) -> MergedPercentile | None:
    """The statistic for `workload.latency_pNN` at a site from its valid histograms, one
    repetition per histogram group; None when the metric is not an HDR percentile or the site
    has no valid histogram for it."""
    if histograms is None or histograms.empty or "." not in metric:
        return None
    workload, name = metric.split(".", 1)
    pct = percentile_of(name)
    if pct is None:
        return None
    rows = histograms[(histograms["site"] == site) & (histograms["workload"] == workload)]
    if "valid" in rows.columns:
        rows = rows[rows["valid"].fillna(True).astype(bool)]
    hist_name = hdr.latency_histogram_name((where or {}).get("endpoint"))
    per_rep: list[np.ndarray] = []
    reps: list[int] = []
    sample = None
    for rep, group in rows.groupby("repetition", sort=True):
        try:
            h = hdr.merged_histogram(group, hist_name)
        except ValueError:  # no valid histogram of that name in this repetition
            continue
        if h.get_total_count() == 0:
            continue
        per_rep.append(np.ctypeslib.as_array(h.counts)[: h.counts_len].astype(np.float64))
        reps.append(int(rep))
        sample = h
    if sample is None:
        return None
    counts = np.vstack(per_rep)
    used = np.flatnonzero(counts.sum(axis=0))
    values = np.array([sample.get_highest_equivalent_value(sample.get_value_from_index(int(i)))
                       for i in used], dtype=float) / 1000.0
    return MergedPercentile(counts[:, used], values, pct, tuple(reps),
                            label=f"p{pct:g} of the merged HDR histograms")
