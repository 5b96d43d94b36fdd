"""Turn http-load's raw JSON into samples, HDR histograms and a validity verdict.

Saturation guard (a run is kept but marked invalid, so scoring skips it):
- Locust's own cpu_warning fired (a load-generator process above 90 % CPU over its
  10-second check), or
- any load-generator process had a CPU demand above 90 % for 3 consecutive one-second
  samples (or every sample of a shorter run). Demand = time on a CPU + time runnable but
  waiting for one (/proc/self/schedstat), so a generator starved by other processes
  counts as saturated too; where schedstat is missing, plain CPU % is used, or
- constant-rate mode fell behind: fewer than 95 % of the due sends went out, or more
  than 5 % of sends were late, or
- a worker's histograms never reached the master (the numbers would be incomplete).
"""

from __future__ import annotations

import json
from typing import Any

from bench.hdr import decode, encode, latency_histogram_name, new_histogram, summary_ms
from bench.poc import promtext
from bench.samples import Histogram, ParsedOutput, Sample
from core.errors import ParseError

TOOL = "locust"
CPU_LIMIT = 90.0
CPU_RUN_S = 3
MIN_SENT_FRACTION = 0.95
MAX_LATE_FRACTION = 0.05
DB_FAMILY = "poc_db_query_duration_seconds"


def _sustained(samples: list[float], limit: float, run: int) -> bool:
    need = min(run, len(samples))
    streak = 0
    for s in samples:
        streak = streak + 1 if s > limit else 0
        if need and streak >= need:
            return True
    return False


def saturation_reasons(loc: dict[str, Any]) -> list[str]:
    reasons: list[str] = []
    if loc.get("locust_cpu_warning"):
        reasons.append("Locust reported a load-generator process above 90% CPU (cpu_warning)")
    demand = {pid: s for pid, s in loc.get("cpu_demand", {}).items() if s}
    series, what = (demand, "CPU demand") if demand else (loc.get("cpu_samples", {}), "CPU")
    hot = {pid: max(s) for pid, s in series.items() if s and _sustained(s, CPU_LIMIT, CPU_RUN_S)}
    if hot:
        peaks = ", ".join(f"pid {pid}: {peak:.0f}%" for pid, peak in sorted(hot.items()))
        reasons.append(f"load generator saturated: {what} above {CPU_LIMIT:.0f}% for "
                       f"{CPU_RUN_S} s in a row ({peaks})")
    if loc.get("flush_timeout") or loc.get("workers_reported", 0) < loc.get("worker_processes",
                                                                            0):
        reasons.append(f"only {loc.get('workers_reported')} of {loc.get('worker_processes')} "
                       "Locust workers reported their histograms")
    rate = loc.get("rate", {})
    if loc.get("mode") == "constant-rate":
        due, sent, late = rate.get("slots_due", 0), rate.get("sent", 0), rate.get("late", 0)
        if due and sent < MIN_SENT_FRACTION * due:
            reasons.append(f"load generator fell behind its target rate: {sent} of {due} "
                           "intended sends went out")
        if sent and late > MAX_LATE_FRACTION * sent:
            reasons.append(f"load generator fell behind its target rate: {late} of {sent} "
                           f"sends later than {rate.get('late_threshold_ms')} ms")
    return reasons


def _latency_samples(hist: Any, meta: dict[str, Any]) -> list[Sample]:
    return [Sample(metric, value, "ms", meta) for metric, value in summary_ms(hist).items()
            if metric in ("latency_p50", "latency_p95", "latency_p99", "latency_p999",
                          "latency_mean")]


def _server_samples(metrics: dict[str, Any] | None) -> list[Sample]:
    """Server-side DB-query histogram deltas (bucket estimates, labelled server_*)."""
    if not metrics or metrics.get("before") is None or metrics.get("after") is None:
        return []
    deltas = promtext.delta(promtext.histograms(metrics["before"], DB_FAMILY),
                            promtext.histograms(metrics["after"], DB_FAMILY))
    out: list[Sample] = []
    combined: dict[str, Any] = {"buckets": {}, "sum": 0.0, "count": 0.0}
    for entry in deltas.values():
        for le, c in entry["buckets"].items():
            combined["buckets"][le] = combined["buckets"].get(le, 0.0) + c
        combined["sum"] += entry["sum"]
        combined["count"] += entry["count"]
    series = [(e["labels"].get("query", key), e) for key, e in sorted(deltas.items())]
    if combined["count"]:
        series.append(("all", combined))
    for query, entry in series:
        meta = {"query": query, "source": "server /metrics delta (bucket estimate)"}
        out += [Sample("server_db_query_count", entry["count"], "count", meta),
                Sample("server_db_query_mean", entry["sum"] / entry["count"] * 1000, "ms", meta),
                Sample("server_db_query_p50", promtext.quantile(entry, 0.50) * 1000, "ms", meta),
                Sample("server_db_query_p99", promtext.quantile(entry, 0.99) * 1000, "ms", meta)]
    return out


def parse_document(output: str, params: Any) -> ParsedOutput:
    try:
        doc = json.loads(output)
    except ValueError as exc:
        raise ParseError(TOOL, f"raw output is not JSON ({exc})") from None
    loc = doc.get("locust") if isinstance(doc, dict) else None
    if not isinstance(loc, dict) or "endpoints" not in loc or "window_s" not in loc:
        raise ParseError(TOOL, "no 'locust.endpoints' in the raw output (not an http-load run?)")
    rename: dict[str, str] = dict(getattr(params, "endpoints", {}) or {})
    window = float(loc["window_s"]) or 1e-9
    reasons = saturation_reasons(loc)
    valid = not reasons
    samples: list[Sample] = []
    histograms: list[Histogram] = []
    total = new_histogram()
    total_service = new_histogram()
    n_all = fail_all = 0
    for raw_name, ep in sorted(loc["endpoints"].items()):
        name = rename.get(raw_name, raw_name)
        meta = {"endpoint": name}
        n, fails = int(ep["requests"]), int(ep["failures"])
        n_all, fail_all = n_all + n, fail_all + fails
        samples += [Sample("requests", n, "count", meta),
                    Sample("rps", n / window, "req/s", meta),
                    Sample("error_rate", 100.0 * fails / n if n else 0.0, "%", meta)]
        for key, kind, acc in (("hdr", "latency", total), ("service_hdr", "service_time",
                                                           total_service)):
            if not ep.get(key):
                continue
            hist = decode(ep[key])
            acc.add(hist)
            histograms.append(Histogram(f"{kind}:{name}", ep[key], "us",
                                        {"endpoint": name, "valid": valid}))
            if kind == "latency":
                samples += _latency_samples(hist, meta)
    if n_all == 0:
        valid = False
        reasons.append("no request completed")
    meta_all = {"endpoint": "all"}
    samples += [Sample("requests", n_all, "count", meta_all),
                Sample("rps", n_all / window, "req/s", meta_all),
                Sample("error_rate", 100.0 * fail_all / n_all if n_all else 0.0, "%", meta_all)]
    if total.get_total_count():
        samples += _latency_samples(total, meta_all)
        histograms.append(Histogram(latency_histogram_name(), encode(total), "us",
                                    {"endpoint": "all", "valid": valid}))
    if total_service.get_total_count():
        histograms.append(Histogram("service_time:all", encode(total_service), "us",
                                    {"endpoint": "all", "valid": valid}))
    cpu_peak = max((max(s) for s in loc.get("cpu_samples", {}).values() if s), default=0.0)
    samples.append(Sample("loadgen_cpu_peak", cpu_peak, "%", {"endpoint": "all"}))
    demand_peak = max((max(s) for s in loc.get("cpu_demand", {}).values() if s), default=None)
    if demand_peak is not None:
        samples.append(Sample("loadgen_cpu_demand_peak", demand_peak, "%", {"endpoint": "all"}))
    if loc.get("mode") == "constant-rate":
        rate = loc["rate"]
        samples += [Sample("target_rps", rate["rate_per_process"] * loc["worker_processes"],
                           "req/s", meta_all),
                    Sample("late_sends", rate["late"], "count", meta_all),
                    Sample("late_send_pct", 100.0 * rate["late"] / rate["sent"]
                           if rate["sent"] else 0.0, "%", meta_all)]
    samples += _server_samples(doc.get("server_metrics"))
    return ParsedOutput(samples, histograms, valid, "; ".join(reasons))
