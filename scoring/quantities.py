"""Stage 1 of scoring: what each built-in criterion measures, per site, with provenance.

Only valid samples count. A repetition's value is the mean of its rows for that metric (one
row in practice; http-load rows are first narrowed to the endpoint "all"). Each measured
quantity carries the statistic that gives its value (the median over repetitions, or for
`http_p99` the p99 of the merged HDR histograms), so the bootstrap resamples repetitions and
recomputes exactly that statistic. Cost-side quantities (TCO, SLA, compliance) have no
run-to-run noise: one value, with the price rows or catalog entries it came from.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from core.scenario import Campaign
from scoring.hdr_stats import merged_percentile_stat, percentile_fallback
from scoring.stats import MedianOf, Statistic, point

Status = Literal["ok", "na", "missing"]
MIB_TO_MB = 1.048576
SLA_UNIT = "% availability"


@dataclass
class Quantity:
    """One site's raw value for one criterion, with where it came from."""

    value: float | None
    unit: str
    reps: list[float] = field(default_factory=list)
    status: Status = "ok"
    note: str = ""
    sources: list[str] = field(default_factory=list)
    noisy: bool = True  # False for modelled values (prices, SLAs): no bootstrap
    statistic: Statistic | None = None  # how `value` follows from the repetitions

    @property
    def n(self) -> int:
        """Valid repetitions behind the value (those the statistic resamples)."""
        return self.statistic.n if self.statistic is not None else len(self.reps)


def median_quantity(values: list[float], unit: str, **kw: Any) -> Quantity:
    """A measured quantity whose value is the median of its per-repetition values."""
    stat = MedianOf(tuple(values))
    return Quantity(point(stat), unit, values, statistic=stat, **kw)


@dataclass
class CostInputs:
    """The cost side's answers for every site, gathered once (see scoring.cost_inputs), plus
    the campaign's HDR histograms for exact latency percentiles."""

    costs: dict[str, Any] = field(default_factory=dict)  # site -> SiteCost
    cost_error: str | None = None
    sla: dict[str, Quantity] = field(default_factory=dict)  # site -> availability
    compliance: dict[str, tuple[int | None, int, str, list[str]]] = field(default_factory=dict)
    histograms: pd.DataFrame | None = None


def hdr_value(histograms: pd.DataFrame | None, site: str, metric: str,
              where: Mapping[str, str] | None = None) -> float | None:
    """A latency percentile from the exact merge of a site's valid HDR histograms over all
    repetitions (bench.hdr), or None when there are none for this metric."""
    if histograms is None or histograms.empty:
        return None
    from bench import hdr

    workload, name = metric.split(".", 1)
    rows = histograms[(histograms["site"] == site) & (histograms["workload"] == workload)]
    if "valid" in rows.columns:
        rows = rows[rows["valid"].fillna(True).astype(bool)]
    if rows.empty:
        return None
    try:
        return hdr.requirement_value(rows, name, where)
    except ValueError:
        return None


def _meta(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if not raw:
        return {}
    try:
        out = json.loads(raw)
    except (TypeError, ValueError):
        return {}
    return out if isinstance(out, dict) else {}


def metric_rows(samples: pd.DataFrame, site: str, metric: str,
                where: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Valid rows of `workload.metric` for a site, filtered by metadata.

    Rows that carry an "endpoint" (http-load, db-query) default to endpoint "all" unless
    `where` names one, so an unqualified `http-load.latency_p99` means the aggregate.
    """
    workload, name = metric.split(".", 1)
    rows = samples[(samples["site"] == site) & (samples["workload"] == workload)
                   & (samples["metric"] == name) & samples["valid"].astype(bool)]
    if rows.empty:
        return rows
    metas = rows["metadata"].map(_meta)
    want = dict(where or {})
    if "endpoint" not in want and metas.map(lambda m: "endpoint" in m).any():
        want["endpoint"] = "all"
    keep = metas.map(lambda m: all(str(m.get(k)) == str(v) for k, v in want.items()))
    return rows[keep.to_numpy(dtype=bool)]


def per_repetition(samples: pd.DataFrame, site: str, metric: str,
                   where: Mapping[str, str] | None = None) -> pd.Series:
    """One value per repetition (mean of that repetition's rows), indexed by repetition."""
    rows = metric_rows(samples, site, metric, where)
    if rows.empty:
        return pd.Series(dtype=float)
    return rows.groupby("repetition")["value"].mean().sort_index()


def _unit_of(samples: pd.DataFrame, site: str, metric: str) -> str:
    rows = metric_rows(samples, site, metric)
    return str(rows["unit"].iloc[0]) if not rows.empty else ""


def _measured(samples: pd.DataFrame, campaign: Campaign, site: str, metric: str, unit: str,
              scale: float = 1.0, where: Mapping[str, str] | None = None) -> Quantity:
    workload = metric.split(".", 1)[0]
    reps = per_repetition(samples, site, metric, where)
    if reps.empty:
        if workload not in {w.name for w in campaign.workloads}:
            return Quantity(None, unit, status="na",
                            note=f"workload {workload} is not in the scenario")
        return Quantity(None, unit, status="missing",
                        note=f"no valid samples of {metric} (runs failed or were invalid)")
    values = [float(v) * scale for v in reps]
    return median_quantity(values, unit,
                           sources=[f"{metric} ({len(values)} valid repetition(s))"])


def _memory(samples: pd.DataFrame, campaign: Campaign, site: str) -> Quantity:
    q = _measured(samples, campaign, site, "stream.read_bandwidth", "MB/s")
    if q.status == "ok":
        return q
    alt = _measured(samples, campaign, site, "sysbench-memory.throughput", "MB/s", MIB_TO_MB)
    if alt.status == "ok":
        alt.note = "from sysbench-memory MiB/s × 1.048576"
        return alt
    return q if q.status == "missing" or alt.status == "na" else alt


def _disk(samples: pd.DataFrame, campaign: Campaign, site: str) -> Quantity:
    read = per_repetition(samples, site, "fio.read_iops")
    write = per_repetition(samples, site, "fio.write_iops")
    if read.empty and write.empty:
        return _measured(samples, campaign, site, "fio.read_iops", "IOPS")
    total = read.add(write, fill_value=0.0)
    values = [float(v) for v in total]
    parts = [m for m, s in (("fio.read_iops", read), ("fio.write_iops", write)) if not s.empty]
    return median_quantity(values, "IOPS",
                           sources=[f"{' + '.join(parts)} ({len(values)} valid repetition(s))"])


def _http_p99(samples: pd.DataFrame, campaign: Campaign, inputs: CostInputs,
              site: str) -> Quantity:
    """p99 of the exact HDR merge when histograms exist: the value and its bootstrap are both
    that statistic (repetitions resampled, histograms re-merged). Without histograms, the
    median of the per-repetition p99s."""
    q = _measured(samples, campaign, site, "http-load.latency_p99", "ms")
    stat = merged_percentile_stat(inputs.histograms, site, "http-load.latency_p99")
    if q.status == "ok" and stat is not None:
        q.statistic = stat
        q.value = point(stat)
        q.note = (f"p99 of the exact HDR merge of {stat.n} repetition(s); the interval "
                  f"resamples repetitions and re-merges their histograms")
        q.sources.append("histograms.parquet latency:all (HDR, merged)")
    elif q.status == "ok":
        q.note = percentile_fallback("http-load.latency_p99", inputs.histograms, site) or q.note
    return q


def _tco(inputs: CostInputs, site: str) -> Quantity:
    cost = inputs.costs.get(site)
    if cost is None:
        return Quantity(None, "USD/month", status="missing", noisy=False,
                        note=inputs.cost_error or "no cost estimate for this site")
    sources = sorted({f"{c.name}: {c.source} [{c.label}]" for c in cost.components})
    return Quantity(float(cost.monthly_usd), "USD/month", [float(cost.monthly_usd)],
                    note=f"price label: {cost.price_label}", sources=sources, noisy=False)


def _price_performance(samples: pd.DataFrame, campaign: Campaign, inputs: CostInputs,
                       site: str) -> Quantity:
    unit = "events/s per $/h"
    cpu = _measured(samples, campaign, site, "sysbench-cpu.events_per_second", unit)
    cost = inputs.costs.get(site)
    if cpu.status != "ok":
        return cpu
    if cost is None:
        return Quantity(None, unit, status="missing", noisy=False,
                        note=inputs.cost_error or "no cost estimate for this site")
    hourly = float(cost.hourly_usd)
    if hourly <= 0 or math.isnan(hourly):
        return Quantity(None, unit, status="na",
                        note=f"compute price is ${hourly}/h ({cost.price_label}); "
                             f"price-performance is undefined")
    values = [v / hourly for v in cpu.reps]
    return median_quantity(values, unit, note=f"÷ ${hourly:g}/h ({cost.price_label})",
                           sources=[*cpu.sources,
                                    f"compute $/h from scoring.tco ({cost.price_label})"])


def _sla(inputs: CostInputs, site: str) -> Quantity:
    return inputs.sla.get(site) or Quantity(None, SLA_UNIT, status="na",
                                            note="no SLA information", noisy=False)


def _compliance(inputs: CostInputs, site: str) -> Quantity:
    count, total, note, sources = inputs.compliance.get(site, (None, 0, "no catalog entry", []))
    if count is None:
        return Quantity(None, "attestations", status="na", note=note)
    return Quantity(float(count), "attestations", [float(count)],
                    note=note or f"{count} of {total} tracked frameworks attested",
                    sources=sources, noisy=False)


Extractor = Callable[[pd.DataFrame, Campaign, CostInputs, str], Quantity]

EXTRACTORS: dict[str, Extractor] = {
    "tco": lambda s, c, i, site: _tco(i, site),
    "price_performance": _price_performance,
    "cpu": lambda s, c, i, site: _measured(s, c, site, "sysbench-cpu.events_per_second",
                                           "events/s"),
    "memory_bandwidth": lambda s, c, i, site: _memory(s, c, site),
    "disk_iops": lambda s, c, i, site: _disk(s, c, site),
    "network_latency": lambda s, c, i, site: _measured(s, c, site, "ping.rtt_avg", "ms"),
    "network_throughput": lambda s, c, i, site: _measured(s, c, site, "iperf3.throughput",
                                                          "Gbit/s"),
    "http_p99": lambda s, c, i, site: _http_p99(s, c, i, site),
    "cold_start_p99": lambda s, c, i, site: _measured(s, c, site, "cold-start.cold_start_p99",
                                                      "ms"),
    "warm_p99": lambda s, c, i, site: _measured(s, c, site, "cold-start.warm_p99", "ms"),
    "time_to_scale": lambda s, c, i, site: _measured(
        s, c, site, "k8s-time-to-scale.time_to_scale_s", "s"),
    "pod_ready_p90": lambda s, c, i, site: _measured(s, c, site, "k8s-pod-scale.pod_ready_s",
                                                     "s", where={"percentile": "90.0"}),
    "sla": lambda s, c, i, site: _sla(i, site),
    "compliance": lambda s, c, i, site: _compliance(i, site),
}

# The sample metrics each measured criterion reads (for charts and the "source" column).
CRITERION_METRICS: dict[str, tuple[str, ...]] = {
    "price_performance": ("sysbench-cpu.events_per_second",),
    "cpu": ("sysbench-cpu.events_per_second",),
    "memory_bandwidth": ("stream.read_bandwidth", "sysbench-memory.throughput"),
    "disk_iops": ("fio.read_iops", "fio.write_iops"),
    "network_latency": ("ping.rtt_avg",),
    "network_throughput": ("iperf3.throughput",),
    "http_p99": ("http-load.latency_p99",),
    "cold_start_p99": ("cold-start.cold_start_p99",),
    "warm_p99": ("cold-start.warm_p99",),
    "time_to_scale": ("k8s-time-to-scale.time_to_scale_s",),
}


def extract(name: str, samples: pd.DataFrame, campaign: Campaign, inputs: CostInputs,
            site: str) -> Quantity:
    """The quantity behind built-in criterion `name` for one site."""
    return EXTRACTORS[name](samples, campaign, inputs, site)


def available_builtins(samples: pd.DataFrame, campaign: Campaign) -> list[str]:
    """Built-ins with something to score: used when the scenario lists no criteria."""
    workloads = {w.name for w in campaign.workloads} | set(samples["workload"].unique())
    out = ["tco"]
    needs = {"price_performance": "sysbench-cpu", "cpu": "sysbench-cpu",
             "disk_iops": "fio", "network_latency": "ping", "network_throughput": "iperf3",
             "http_p99": "http-load", "cold_start_p99": "cold-start", "warm_p99": "cold-start",
             "time_to_scale": "k8s-time-to-scale", "pod_ready_p90": "k8s-pod-scale"}
    for name, workload in needs.items():
        if workload in workloads:
            out.append(name)
    if {"stream", "sysbench-memory"} & workloads:
        out.append("memory_bandwidth")
    if any(s.provider in ("aws", "azure", "gcp") for s in campaign.sites):
        out += ["sla", "compliance"]
    return out
