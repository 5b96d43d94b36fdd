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

Every field is read through typed accessors (bench.workloads._json): a damaged document
is a ParseError naming Locust, never a KeyError or TypeError. A zero or negative
`window_s` is refused rather than turned into a request rate over no time.
"""

from __future__ import annotations

from typing import Any

from bench.hdr import (
    HdrDecodeError,
    decode,
    encode,
    latency_histogram_name,
    new_histogram,
    summary_ms,
)
from bench.poc import promtext
from bench.samples import Histogram, ParsedOutput, Sample
from bench.workloads import _interval_parse as I
from bench.workloads import _json as J
from bench.workloads._checks import check_sample
from core.errors import ParseError

TOOL = "locust"
CPU_LIMIT = 90.0
CPU_RUN_S = 3
MIN_SENT_FRACTION = 0.95
MAX_LATE_FRACTION = 0.05
DB_FAMILY = "poc_db_query_duration_seconds"


def _series(loc: dict[str, Any], key: str) -> dict[str, list[float]]:
    """{pid: [percent, ...]} from `key`, every value a finite non-negative number."""
    raw = J.obj(TOOL, loc, key, {})
    out: dict[str, list[float]] = {}
    for pid, values in raw.items():
        if not isinstance(values, list):
            raise ParseError(TOOL, f"locust.{key}.{pid[:40]}: not a list of percentages")
        out[pid] = [J.num(TOOL, {"v": v}, "v") for v in values]
        if any(v < 0 for v in out[pid]):
            raise ParseError(TOOL, f"locust.{key}.{pid[:40]}: negative CPU percentage")
    return out


def _rate(loc: dict[str, Any]) -> dict[str, float]:
    """The constant-rate counters, checked: counts are whole and non-negative."""
    raw = J.obj(TOOL, loc, "rate")
    rate = {k: float(J.count(TOOL, raw, k, 0)) for k in ("slots_due", "sent", "late")}
    rate["rate_per_process"] = J.num(TOOL, raw, "rate_per_process")
    rate["late_threshold_ms"] = J.num(TOOL, raw, "late_threshold_ms", 0.0)
    if rate["late"] > rate["sent"]:
        raise ParseError(TOOL, f"locust.rate: {rate['late']:.0f} late of only "
                               f"{rate['sent']:.0f} sends")
    return rate


def read_locust(doc: Any) -> dict[str, Any]:
    """The `locust` section with every field the verdict needs, typed and range-checked."""
    if not isinstance(doc, dict):
        raise ParseError(TOOL, "raw output is not an http-load JSON document")
    loc = J.obj(TOOL, doc, "locust")
    window = J.num(TOOL, loc, "window_s")
    if window <= 0:
        raise ParseError(TOOL, f"locust.window_s is {window:g}: request rates over no time "
                               "are not measurements")
    clean: dict[str, Any] = {
        "endpoints": J.obj(TOOL, loc, "endpoints"),
        "window_s": window,
        "locust_cpu_warning": bool(loc.get("locust_cpu_warning")),
        "cpu_samples": _series(loc, "cpu_samples"),
        "cpu_demand": _series(loc, "cpu_demand"),
        "flush_timeout": bool(loc.get("flush_timeout")),
        "workers_reported": J.count(TOOL, loc, "workers_reported", 0),
        "worker_processes": J.count(TOOL, loc, "worker_processes", 0),
        "mode": J.text(TOOL, loc, "mode", "closed"),
        "t_start": J.num(TOOL, loc, "t_start", 0.0),
    }
    first = J.num(TOOL, loc, "first_request_at", clean["t_start"])
    clean["intervals"] = I.read_intervals(loc, (first, first + window))
    if clean["mode"] == "constant-rate":
        clean["rate"] = _rate(loc)
    return clean


def _sustained(samples: list[float], limit: float, run: int) -> bool:
    need = min(run, len(samples))
    streak = 0
    for s in samples:
        streak = streak + 1 if s > limit else 0
        if need and streak >= need:
            return True
    return False


def saturation_reasons(loc: dict[str, Any]) -> list[str]:
    """Why the load generator's numbers cannot be trusted (`loc` from read_locust). With
    per-interval data the CPU rules are judged per interval (bench.workloads._interval_parse)."""
    reasons: list[str] = []
    if loc["locust_cpu_warning"] and not loc["intervals"]:
        reasons.append("Locust reported a load-generator process above 90% CPU (cpu_warning)")
    demand = {pid: s for pid, s in loc["cpu_demand"].items() if s}
    series, what = (demand, "CPU demand") if demand else (loc["cpu_samples"], "CPU")
    hot = {pid: max(s) for pid, s in series.items()
           if s and not loc["intervals"] and _sustained(s, CPU_LIMIT, CPU_RUN_S)}
    if hot:
        peaks = ", ".join(f"pid {pid[:40]}: {peak:.0f}%" for pid, peak in sorted(hot.items()))
        reasons.append(f"load generator saturated: {what} above {CPU_LIMIT:.0f}% for "
                       f"{CPU_RUN_S} s in a row ({peaks})")
    if loc["flush_timeout"] or loc["workers_reported"] < loc["worker_processes"]:
        reasons.append(f"only {loc['workers_reported']} of {loc['worker_processes']} "
                       "Locust workers reported their histograms")
    if loc["mode"] == "constant-rate":
        rate = loc["rate"]
        due, sent, late = rate["slots_due"], rate["sent"], rate["late"]
        if due and sent < MIN_SENT_FRACTION * due:
            reasons.append(f"load generator fell behind its target rate: {sent:.0f} of "
                           f"{due:.0f} intended sends went out")
        if sent and late > MAX_LATE_FRACTION * sent:
            reasons.append(f"load generator fell behind its target rate: {late:.0f} of "
                           f"{sent:.0f} sends later than {rate['late_threshold_ms']:g} ms")
    return reasons


LATENCY_METRICS = ("latency_p50", "latency_p95", "latency_p99", "latency_p999", "latency_mean")
# Every metric an http-load run can produce, with its unit (the workload's declared metrics).
METRICS: dict[str, str] = {
    "requests": "count", "rps": "req/s", "error_rate": "%",
    **{k: "ms" for k in LATENCY_METRICS},
    "loadgen_cpu_peak": "%", "loadgen_cpu_demand_peak": "%", "target_rps": "req/s",
    "late_sends": "count", "late_send_pct": "%",
    "server_db_query_count": "count", "server_db_query_mean": "ms", "server_db_query_p50": "ms",
    "server_db_query_p99": "ms",
}


def _latency_samples(hist: Any, meta: dict[str, Any]) -> list[Sample]:
    return [Sample(metric, value, "ms", meta) for metric, value in summary_ms(hist).items()
            if metric in ("latency_p50", "latency_p95", "latency_p99", "latency_p999",
                          "latency_mean")]


def _server_samples(metrics: dict[str, Any]) -> list[Sample]:
    """Server-side DB-query histogram deltas (bucket estimates, labelled server_*)."""
    if metrics.get("before") is None or metrics.get("after") is None:
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


def server_samples(doc: dict[str, Any]) -> tuple[list[Sample], str | None]:
    """Server-side samples, or none and the reason when the scrapes cannot be used.

    The /metrics scrapes are a side channel (a user's own service may print anything
    there, or restart between the scrapes): damage there drops these samples and says
    why, instead of throwing away the load test itself.
    """
    metrics = doc.get("server_metrics")
    if not isinstance(metrics, dict):
        return [], None
    try:
        samples = _server_samples(metrics)
        for sample in samples:
            check_sample(TOOL, sample)
    except ParseError as exc:
        return [], f"server metrics dropped: {exc.reason}"
    except Exception as exc:  # prometheus_client's parser signals bad text many ways
        return [], f"server metrics dropped: unreadable /metrics scrape ({type(exc).__name__})"
    return samples, None


def _histogram(ep: dict[str, Any], key: str, name: str) -> Any:
    encoded = J.text(TOOL, ep, key)
    try:
        return decode(encoded)
    except HdrDecodeError as exc:
        raise ParseError(TOOL, f"locust.endpoints[{name[:60]!r}].{key}: {exc}") from None


def parse_document(output: str, params: Any) -> ParsedOutput:
    doc = J.loads(TOOL, output, "http-load raw output")
    loc = read_locust(doc)
    rename: dict[str, str] = dict(getattr(params, "endpoints", {}) or {})
    window = loc["window_s"]
    reasons = saturation_reasons(loc)
    intervals, notes = loc["intervals"], []
    if intervals:
        I.mark(intervals, loc["t_start"], getattr(params, "warmup_s", 0), CPU_LIMIT)
        more, notes = I.verdict(intervals, getattr(params, "max_saturated_pct", 10.0),
                                CPU_LIMIT)
        reasons += more
        if any(iv.excluded for iv in intervals):  # statistics from the intervals kept
            endpoints, window = I.kept(intervals)
            loc["endpoints"] = {k: {"hdr": encode(v["hist"]), "requests": v["requests"],
                                    "failures": v["failures"]} for k, v in endpoints.items()}
            window = window or loc["window_s"]
    valid = not reasons
    samples: list[Sample] = []
    histograms: list[Histogram] = []
    total = new_histogram()
    total_service = new_histogram()
    n_all = fail_all = 0
    for raw_name, ep in sorted(loc["endpoints"].items()):
        name = rename.get(raw_name, raw_name)
        meta = {"endpoint": name}
        if not isinstance(ep, dict):
            raise ParseError(TOOL, f"locust.endpoints[{raw_name[:60]!r}] is not an object")
        n, fails = J.count(TOOL, ep, "requests"), J.count(TOOL, ep, "failures")
        if fails > n:
            raise ParseError(TOOL, f"endpoint {raw_name[:60]!r}: {fails} failures out of "
                                   f"{n} requests")
        n_all, fail_all = n_all + n, fail_all + fails
        samples += [Sample("requests", n, "count", meta),
                    Sample("rps", n / window, "req/s", meta),
                    Sample("error_rate", 100.0 * fails / n if n else 0.0, "%", meta)]
        for key, kind, acc in (("hdr", "latency", total), ("service_hdr", "service_time",
                                                           total_service)):
            if not ep.get(key):
                continue
            hist = _histogram(ep, key, raw_name)
            acc.add(hist)
            histograms.append(Histogram(f"{kind}:{name}", ep[key], "us",
                                        {"endpoint": name, "valid": valid}))
            if kind == "latency":
                samples += _latency_samples(hist, meta)
    if n_all == 0:
        valid = False
        reasons.append("no request completed")
    meta_all: dict[str, Any] = {"endpoint": "all"}
    extra, dropped = server_samples(doc)
    if dropped:
        meta_all["server_metrics"] = dropped
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
    cpu_peak = max((max(s) for s in loc["cpu_samples"].values() if s), default=0.0)
    samples.append(Sample("loadgen_cpu_peak", cpu_peak, "%", {"endpoint": "all"}))
    demand_peak = max((max(s) for s in loc["cpu_demand"].values() if s), default=None)
    if demand_peak is not None:
        samples.append(Sample("loadgen_cpu_demand_peak", demand_peak, "%", {"endpoint": "all"}))
    if loc["mode"] == "constant-rate":
        rate = loc["rate"]
        samples += [Sample("target_rps", rate["rate_per_process"] * loc["worker_processes"],
                           "req/s", meta_all),
                    Sample("late_sends", rate["late"], "count", meta_all),
                    Sample("late_send_pct", 100.0 * rate["late"] / rate["sent"]
                           if rate["sent"] else 0.0, "%", meta_all)]
    samples += extra
    if intervals:
        size = J.num(TOOL, J.obj(TOOL, doc["locust"], "intervals"), "interval_s")
        histograms += I.interval_rows(intervals, params, rename, loc["t_start"], size, valid)
    return ParsedOutput(samples, histograms, valid, "; ".join(reasons), notes)
