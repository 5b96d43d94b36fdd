"""The decision matrix: scenario criteria → 1–10 scores → weighted totals.

Built-in criteria turn a measured or modelled quantity into a score through a fixed-bounds
utility, so each site's score depends only on its own numbers: adding or removing a site never
reorders the others. Manual criteria carry the scores the scenario states. A cell that does not
apply to a site (an SLA on a machine under your desk) is left out of that site's sum and the
sum is rescaled to the full weight, and the report says so next to the cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from core.errors import ScenarioError
from core.scenario import Campaign, Criterion

Scale = Literal["linear", "log", "nines"]


@dataclass(frozen=True)
class Builtin:
    """A built-in criterion: where its quantity comes from and how it maps to 1–10."""

    name: str
    label: str
    unit: str
    bounds: tuple[float, float]  # (value scoring 1, value scoring 10); order gives direction
    scale: Scale
    default_weight: int
    source: str


BUILTINS: dict[str, Builtin] = {b.name: b for b in (
    Builtin("tco", "TCO per month", "USD/month", (10_000.0, 10.0), "log", 5,
            "scoring.tco monthly_usd for the scenario's usage profile"),
    Builtin("price_performance", "price-performance", "events/s per $/h", (1_000.0, 1_000_000.0),
            "log", 3, "sysbench-cpu.events_per_second ÷ effective compute $/h"),
    Builtin("cpu", "CPU throughput", "events/s", (200.0, 50_000.0), "log", 3,
            "sysbench-cpu.events_per_second"),
    Builtin("memory_bandwidth", "memory bandwidth", "MB/s", (1_000.0, 100_000.0), "log", 2,
            "stream.read_bandwidth, else sysbench-memory.throughput × 1.048576"),
    Builtin("disk_iops", "disk IOPS", "IOPS", (100.0, 100_000.0), "log", 2,
            "fio.read_iops + fio.write_iops per repetition"),
    Builtin("network_latency", "network latency", "ms", (5.0, 0.05), "log", 3,
            "ping.rtt_avg between the zones"),
    Builtin("network_throughput", "network throughput", "Gbit/s", (0.1, 100.0), "log", 2,
            "iperf3.throughput between the zones"),
    Builtin("http_p99", "HTTP p99 latency", "ms", (1_000.0, 5.0), "log", 4,
            "http-load.latency_p99, endpoint 'all'"),
    Builtin("sla", "SLA", "% availability", (99.0, 99.99), "nines", 3,
            "scoring.sla availability_pct of the provider's published SLA"),
    Builtin("compliance", "compliance", "attestations", (0.0, 10.0), "linear", 2,
            "count of attested frameworks in the catalog"),
)}


@dataclass(frozen=True)
class CriterionSpec:
    """One row of the matrix as resolved from the scenario (and a weights file)."""

    name: str
    label: str
    weight: int
    kind: Literal["manual", "builtin"]
    unit: str = ""
    bounds: tuple[float, float] | None = None
    scale: Scale = "linear"
    normalise: Literal["fixed", "minmax"] = "fixed"
    manual_scores: dict[str, float] = field(default_factory=dict)


def resolve_criteria(campaign: Campaign, source: str = "<scenario>") -> list[CriterionSpec]:
    """Scenario criteria → specs; unknown names and bad bounds are scenario errors."""
    problems: list[str] = []
    specs: list[CriterionSpec] = []
    sites = [s.name for s in campaign.sites]
    for i, c in enumerate(campaign.criteria):
        spec = _resolve_one(i, c, sites, problems)
        if spec is not None:
            specs.append(spec)
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"criteria: names must be unique; repeated: {', '.join(dupes)}")
    if problems:
        raise ScenarioError(source, problems)
    return specs


def _resolve_one(i: int, c: Criterion, sites: list[str],
                 problems: list[str]) -> CriterionSpec | None:
    if c.scores is not None:
        missing = [s for s in sites if s not in c.scores]
        if missing:
            problems.append(f"criteria[{i}].scores: a manual criterion needs a 1-10 score for "
                            f"every site; missing {', '.join(missing)}")
            return None
        return CriterionSpec(c.name, c.label or c.name, c.weight, "manual",
                             manual_scores=dict(c.scores))
    if c.name not in BUILTINS:
        problems.append(f"criteria[{i}].name: unknown criterion {c.name!r}; expected a built-in "
                        f"({', '.join(BUILTINS)}) or a manual criterion with 'scores'")
        return None
    b = BUILTINS[c.name]
    bounds = tuple(c.bounds) if c.bounds is not None else b.bounds
    if bounds[0] == bounds[1]:
        problems.append(f"criteria[{i}].bounds: the two values must differ (value scoring 1, "
                        f"value scoring 10); got {list(bounds)}")
        return None
    if b.scale == "log" and min(bounds) <= 0:
        problems.append(f"criteria[{i}].bounds: {c.name} uses a log scale, bounds must be > 0; "
                        f"got {list(bounds)}")
        return None
    if b.scale == "nines" and not all(0 <= v < 100 for v in bounds):
        problems.append(f"criteria[{i}].bounds: availability bounds must be in [0, 100); "
                        f"got {list(bounds)}")
        return None
    return CriterionSpec(c.name, c.label or b.label, c.weight, "builtin", unit=b.unit,
                         bounds=(float(bounds[0]), float(bounds[1])), scale=b.scale,
                         normalise=c.normalise)


def default_criteria(available: Sequence[str]) -> list[CriterionSpec]:
    """When a scenario lists no criteria: every built-in that has data, default weights."""
    return [CriterionSpec(b.name, b.label, b.default_weight, "builtin", unit=b.unit,
                          bounds=b.bounds, scale=b.scale)
            for b in BUILTINS.values() if b.name in available]


def _transform(values: np.ndarray, scale: Scale) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if scale == "log":
            return np.log10(np.where(values <= 0, 0.0, values))
        if scale == "nines":
            return -np.log10(np.clip(1.0 - values / 100.0, 0.0, None))
    return values


def utility(values: np.ndarray | float, bounds: tuple[float, float],
            scale: Scale = "linear") -> np.ndarray:
    """Fixed-bounds utility: bounds[0] → 1, bounds[1] → 10, clipped, one decimal.

    Rounded to one decimal so that the scores shown add up to the totals shown.
    """
    v = _transform(np.asarray(values, dtype=float), scale)
    lo, hi = _transform(np.asarray(bounds, dtype=float), scale)
    with np.errstate(invalid="ignore"):
        u = 1.0 + 9.0 * (v - lo) / (hi - lo)
    u = np.where(np.isnan(v), np.nan, np.clip(np.nan_to_num(u, nan=1.0, posinf=10.0,
                                                            neginf=1.0), 1.0, 10.0))
    return np.round(u, 1)


def minmax_utility(values: np.ndarray, bounds: tuple[float, float],
                   scale: Scale = "linear") -> np.ndarray:
    """Min-max across the sites of one draw (last axis): best → 10, worst → 1; all equal → 10.

    Direction comes from the bounds' order. Unlike the fixed utility, this depends on which
    sites are compared, so adding a site can reorder the others; it is an option, not default.
    """
    v = _transform(np.asarray(values, dtype=float), scale)
    higher_better = bounds[1] > bounds[0]
    if not higher_better:
        v = -v
    with np.errstate(invalid="ignore"):
        lo = np.nanmin(v, axis=-1, keepdims=True)
        hi = np.nanmax(v, axis=-1, keepdims=True)
        span = hi - lo
        u = np.where(span > 0, 1.0 + 9.0 * (v - lo) / np.where(span > 0, span, 1.0), 10.0)
    return np.round(np.where(np.isnan(v), np.nan, u), 1)


def score_values(spec: CriterionSpec, values: np.ndarray) -> np.ndarray:
    """Scores of a built-in criterion for values whose last axis is the sites."""
    assert spec.bounds is not None
    if spec.normalise == "minmax":
        return minmax_utility(values, spec.bounds, spec.scale)
    return utility(values, spec.bounds, spec.scale)


def weighted_totals(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ weight × score per site; NaN (not applicable) cells are left out and the sum is
    rescaled to the full weight so sites with and without such a cell stay comparable.

    scores: (..., criteria, sites); weights: (..., criteria). Equals the plain Σ w×s when
    every cell applies (the seed's 172 and 157).
    """
    w = np.asarray(weights, dtype=float)[..., :, None]
    applicable = ~np.isnan(scores)
    part = np.nansum(w * np.nan_to_num(scores), axis=-2)
    w_app = np.sum(np.where(applicable, w, 0.0), axis=-2)
    w_all = np.sum(w, axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w_app > 0, part * w_all / np.where(w_app > 0, w_app, 1.0), np.nan)


def winners(totals: np.ndarray, sites: Sequence[str]) -> list[str]:
    """Sites sharing the highest total (more than one means a tie)."""
    t = np.asarray(totals, dtype=float)
    if np.all(np.isnan(t)):
        return []
    best = np.nanmax(t)
    return [s for s, v in zip(sites, t, strict=True) if np.isclose(v, best, rtol=0, atol=1e-9)]


def ranking(totals: Mapping[str, float]) -> list[str]:
    """Sites by total, best first; ties keep scenario order."""
    order = list(totals)
    return sorted(order, key=lambda s: (-np.nan_to_num(totals[s], nan=-np.inf), order.index(s)))
