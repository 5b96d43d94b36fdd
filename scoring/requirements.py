"""Hard requirements, pass/fail per site, shown beside the matrix.

The comparison is exact on the statistic the requirement names (median over repetitions by
default): "< 2 ms" passes 1.99 and fails 2.00. A metric with no valid samples is "not
measured", never a pass. When the bootstrap interval of the statistic (the median, or the merged
HDR percentile, recomputed on resampled repetitions) straddles the threshold the result is
flagged marginal: it could go either way on a re-run. With fewer than 3 valid repetitions the
noise is unknown and the result says so instead.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from core.errors import ScenarioError
from core.scenario import Campaign, Requirement
from scoring.hdr_stats import merged_percentile_stat, percentile_fallback
from scoring.quantities import hdr_value, metric_rows, per_repetition
from scoring.stats import MIN_REPETITIONS, MedianOf, Statistic, bootstrap_ci, noise_known

Status = Literal["pass", "fail", "not measured"]

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq,
}


@dataclass
class RequirementResult:
    """One requirement at one site."""

    requirement: str  # display name
    metric: str
    operator: str
    threshold: float
    unit: str
    statistic: str
    site: str
    status: Status
    value: float | None = None
    ci: tuple[float, float] | None = None
    repetitions: int = 0
    marginal: bool = False
    note: str = ""
    hard: bool = False  # failing it disqualifies the site from winning (scoring.disqualify)


def requirement_name(req: Requirement) -> str:
    unit = f" {req.unit}" if req.unit else ""
    where = "".join(f" [{k}={v}]" for k, v in sorted(req.where.items()))
    return req.name or f"{req.metric}{where} {req.operator} {req.threshold:g}{unit}"


def _statistic(req: Requirement, samples: pd.DataFrame, site: str) -> tuple[float | None, int]:
    """The requirement's statistic over valid data: median/mean/min/max of the per-repetition
    values, or p95/p99 over every valid row's value."""
    reps = per_repetition(samples, site, req.metric, req.where)
    if reps.empty:
        return None, 0
    if req.statistic in ("p95", "p99"):
        rows = metric_rows(samples, site, req.metric, req.where)
        return float(np.percentile(rows["value"], float(req.statistic[1:]))), len(reps)
    fn = {"median": np.median, "mean": np.mean, "min": np.min, "max": np.max}[req.statistic]
    return float(fn(reps.to_numpy())), len(reps)


def _check_unit(i: int, req: Requirement, samples: pd.DataFrame, source: str) -> str:
    rows = pd.concat([metric_rows(samples, s, req.metric, req.where)
                      for s in samples["site"].unique()]) if not samples.empty else samples
    units = sorted({str(u) for u in rows["unit"]}) if not rows.empty else []
    if req.unit and units and units != [req.unit]:
        raise ScenarioError(source, [f"requirements[{i}].unit: {req.unit!r} but the samples of "
                                     f"{req.metric} are in {', '.join(units)} (use the samples' "
                                     f"unit; no conversion is guessed)"])
    return req.unit or (units[0] if units else "")


def evaluate(campaign: Campaign, samples: pd.DataFrame, source: str = "<scenario>",
             histograms: pd.DataFrame | None = None) -> list[RequirementResult]:
    """Every requirement at every site, in scenario order, then the compliance `requires`
    (always hard: scoring.disqualify)."""
    out: list[RequirementResult] = []
    for i, req in enumerate(campaign.requirements):
        unit = _check_unit(i, req, samples, source)
        for site in campaign.sites:
            out.append(evaluate_one(req, samples, site.name, unit, histograms))
    return out + compliance_results(campaign)


def evaluate_one(req: Requirement, samples: pd.DataFrame, site: str, unit: str = "",
                 histograms: pd.DataFrame | None = None) -> RequirementResult:
    """One requirement at one site.

    A latency percentile backed by HDR histograms (http-load, db-query) with the default
    statistic is the percentile of the exact merge of every valid repetition, not a median of
    per-repetition percentiles.
    """
    base = dict(requirement=requirement_name(req), metric=req.metric, operator=req.operator,
                threshold=req.threshold, unit=unit or req.unit or "", statistic=req.statistic,
                site=site, hard=req.hard)
    value, n = _statistic(req, samples, site)
    if value is None:
        return RequirementResult(**base, status="not measured",
                                 note=f"no valid samples of {req.metric}")
    merged = hdr_value(histograms, site, req.metric, req.where) if (
        req.statistic == "median") else None
    if merged is not None:
        value = merged
        base["statistic"] = "exact HDR merge"
    elif req.statistic == "median" and (
            fallback := percentile_fallback(req.metric, histograms, site, req.where)):
        base["statistic"] = fallback
    ok = OPS[req.operator](value, req.threshold)
    result = RequirementResult(**base, status="pass" if ok else "fail", value=value,
                               repetitions=n)
    if req.statistic != "median":
        return result
    stat: Statistic | None
    if merged is not None:  # the same merged statistic, bootstrapped (None: not a percentile)
        stat = merged_percentile_stat(histograms, site, req.metric, req.where)
    else:
        stat = MedianOf(tuple(float(v) for v in per_repetition(samples, site, req.metric,
                                                               req.where)))
    if stat is None:
        return result
    if not noise_known(stat.n):
        result.note = (f"noise unknown: {stat.n} valid repetition(s), fewer than "
                       f"{MIN_REPETITIONS}, so no interval and no marginal check")
        return result
    _, lo, hi = bootstrap_ci(stat)
    result.ci = (lo, hi)
    result.marginal = OPS[req.operator](lo, req.threshold) != OPS[req.operator](
        hi, req.threshold)
    if result.marginal:
        result.note = (f"marginal: the 95% interval {lo:.4g}–{hi:.4g} straddles "
                       f"{req.threshold:g}")
    return result


def compliance_results(campaign: Campaign) -> list[RequirementResult]:
    """The scenario's compliance `requires` as hard requirements, one per need and site.

    A cloud site passes when the provider has the level in the site's region
    (scoring.compliance); a local or static site has no provider attestation to check, so the
    need is "not measured" there (never a pass)."""
    from scoring.compliance import levels

    out: list[RequirementResult] = []
    for need in campaign.requires:
        for site in campaign.sites:
            base = dict(requirement=f"compliance: {need}", metric=f"compliance.{need}",
                        operator="==", threshold=1.0, unit="", statistic="catalog",
                        site=site.name, hard=True)
            if site.provider not in ("aws", "azure", "gcp"):
                out.append(RequirementResult(**base, status="not measured",
                                             note=f"a {site.provider} site has no provider "
                                                  "attestation to check"))
                continue
            lv = levels(site.provider, site.region)[need]
            out.append(RequirementResult(**base, status="pass" if lv.met else "fail",
                                         note=lv.status + (f"; {lv.source}" if lv.source
                                                           else "")))
    return out


def site_summary(results: list[RequirementResult]) -> dict[str, dict[str, int]]:
    """Per site: how many requirements passed, failed, were not measured."""
    out: dict[str, dict[str, int]] = {}
    for r in results:
        counts = out.setdefault(r.site, {"pass": 0, "fail": 0, "not measured": 0})
        counts[r.status] += 1
    return out


def meets_all(results: list[RequirementResult], site: str) -> bool:
    return all(r.status == "pass" for r in results if r.site == site)
