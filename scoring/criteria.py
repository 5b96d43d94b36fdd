"""The criteria a campaign is scored on: built-ins, manual criteria, bounds and weights.

This is configuration, read by every stage: which quantity a built-in criterion measures, the
fixed bounds and scale of its utility, its default weight. A scenario (or a weights file) may
give a criterion weight 0, which drops it from the matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from core.errors import ScenarioError
from core.scenario import Campaign, Criterion

Scale = Literal["linear", "log", "nines"]
Normalise = Literal["fixed", "relative"]
NORMALISE_ALIASES = {"minmax": "relative"}  # the name before `relative`, still accepted


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
    metric: tuple[str, str] | None = None  # (workload, metric) whose direction bounds follow


BUILTINS: dict[str, Builtin] = {b.name: b for b in (
    Builtin("tco", "TCO per month", "USD/month", (10_000.0, 10.0), "log", 5,
            "scoring.tco monthly_usd for the scenario's usage profile"),
    Builtin("price_performance", "price-performance", "events/s per $/h", (1_000.0, 1_000_000.0),
            "log", 3, "sysbench-cpu.events_per_second ÷ effective compute $/h"),
    Builtin("cpu", "CPU throughput", "events/s", (200.0, 50_000.0), "log", 3,
            "sysbench-cpu.events_per_second", ("sysbench-cpu", "events_per_second")),
    Builtin("memory_bandwidth", "memory bandwidth", "MB/s", (1_000.0, 100_000.0), "log", 2,
            "stream.read_bandwidth, else sysbench-memory.throughput × 1.048576",
            ("stream", "read_bandwidth")),
    Builtin("disk_iops", "disk IOPS", "IOPS", (100.0, 100_000.0), "log", 2,
            "fio.read_iops + fio.write_iops per repetition", ("fio", "read_iops")),
    Builtin("network_latency", "network latency", "ms", (5.0, 0.05), "log", 3,
            "ping.rtt_avg between the zones", ("ping", "rtt_avg")),
    Builtin("network_throughput", "network throughput", "Gbit/s", (0.1, 100.0), "log", 2,
            "iperf3.throughput between the zones", ("iperf3", "throughput")),
    Builtin("http_p99", "HTTP p99 latency", "ms", (1_000.0, 5.0), "log", 4,
            "http-load.latency_p99, endpoint 'all'", ("http-load", "latency_p99")),
    Builtin("cold_start_p99", "cold-start p99 latency", "ms", (5_000.0, 50.0), "log", 3,
            "cold-start.cold_start_p99 (the function measured, not the baseline)",
            ("cold-start", "cold_start_p99")),
    Builtin("warm_p99", "warm request p99 latency", "ms", (1_000.0, 1.0), "log", 2,
            "cold-start.warm_p99", ("cold-start", "warm_p99")),
    Builtin("time_to_scale", "time to scale (spike to p99 back)", "s", (300.0, 5.0), "log", 3,
            "k8s-time-to-scale.time_to_scale_s", ("k8s-time-to-scale", "time_to_scale_s")),
    Builtin("pod_ready_p90", "pod ready p90 (new nodes)", "s", (600.0, 5.0), "log", 2,
            "k8s-pod-scale.pod_ready_s, percentile 90", ("k8s-pod-scale", "pod_ready_s")),
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
    normalise: Normalise = "fixed"
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


def criteria_problems(entries: Sequence[tuple[int, dict[str, Any]]], sites: list[str],
                      weights: dict[str, int] | None = None) -> list[str]:
    """The checks `resolve_criteria` and `decide` make, on a scenario's raw criteria, so that
    `validate` refuses what scoring would refuse an hour later: bounds that cannot map to
    1-10, repeated names, and every weight 0 (after a weights file's overrides). Entries the
    model refuses, unknown names and manual scores are reported by the scenario checks."""
    problems: list[str] = []
    names: list[str] = []
    zero = bool(entries)
    for i, raw in entries:
        if isinstance(raw.get("name"), str):
            names.append(raw["name"])
        try:
            c = Criterion.model_validate(raw)
        except (ValidationError, RecursionError):
            zero = False  # the model reports it; do not claim all weights are 0
            continue
        weight = (weights or {}).get(c.name, c.weight)
        zero = zero and weight == 0
        if c.scores is None and c.name in BUILTINS:
            _resolve_one(i, c, sites, problems)
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"criteria: names must be unique; repeated: {', '.join(dupes)}")
    if zero:
        problems.append("criteria: every criterion has weight 0, so there is nothing to score; "
                        "expected at least one weight 1-5 (0 leaves a criterion out)")
    return problems


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
    wrong_way = _against_direction(b, bounds)
    if wrong_way:
        problems.append(f"criteria[{i}].bounds: {wrong_way}; got {list(bounds)}")
        return None
    normalise = NORMALISE_ALIASES.get(c.normalise, c.normalise)
    return CriterionSpec(c.name, c.label or b.label, c.weight, "builtin", unit=b.unit,
                         bounds=(float(bounds[0]), float(bounds[1])), scale=b.scale,
                         normalise=normalise)  # type: ignore[arg-type]


def _against_direction(b: Builtin, bounds: tuple[float, ...]) -> str:
    """Bounds are (value scoring 1, value scoring 10): their order must follow the metric's
    declared direction (scoring.directions), the one compare uses too."""
    from scoring.directions import direction

    d = direction(*b.metric) if b.metric else None
    if d == "lower" and bounds[0] < bounds[1]:
        return (f"{b.name} is better when lower ({'.'.join(b.metric or ())}), so the value "
                "scoring 1 must be the larger one")
    if d == "higher" and bounds[0] > bounds[1]:
        return (f"{b.name} is better when higher ({'.'.join(b.metric or ())}), so the value "
                "scoring 1 must be the smaller one")
    return ""


def active(specs: Sequence[CriterionSpec]) -> tuple[list[CriterionSpec], list[CriterionSpec]]:
    """(kept, dropped): a criterion with weight 0 is dropped from the matrix altogether."""
    return [s for s in specs if s.weight > 0], [s for s in specs if s.weight <= 0]


def default_criteria(available: Sequence[str]) -> list[CriterionSpec]:
    """When a scenario lists no criteria: every built-in that has data, default weights."""
    return [CriterionSpec(b.name, b.label, b.default_weight, "builtin", unit=b.unit,
                          bounds=b.bounds, scale=b.scale)
            for b in BUILTINS.values() if b.name in available]
