"""http-load's per-interval data: read it, mark left-out intervals, and turn it into rows.

An interval is left out of the unit's statistics when it lies in the warm-up
(`warmup_s`: it *begins* before the warm-up ends) or when any load-generator process had
a CPU demand (else CPU) above the guard's limit in it: those latencies measure the
generator, not the service. The unit is invalid when more than `max_saturated_pct` of the
measured (non-warm-up) intervals were saturated. Locust's own cpu_warning (90 % CPU
averaged over 10 s) needs no separate rule here: a 10-s average above 90 % implies a
one-second sample above 90 %, so those intervals are already marked.

Every interval becomes `interval_latency:<endpoint>` histogram rows (and `:all`) with an
`interval` index; their metadata carries requests, errors, rate, active users, intended
users or rate, load-generator CPU and why the interval was left out. The names differ from
the whole-unit `latency:*` rows so readers that merge by name never count a request twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.hdr import HdrDecodeError, decode, encode, new_histogram
from bench.samples import Histogram
from bench.workloads import _json as J
from bench.workloads._load_shapes import intended_users, locust_steps
from core.errors import ParseError

TOOL = "locust"
WARMUP = "warm-up"
SATURATED = "load generator saturated"


@dataclass
class Interval:
    index: int
    start: float  # epoch seconds
    covered_s: float  # the part of the interval inside the run
    hists: dict[str, Any]
    requests: dict[str, int]
    failures: dict[str, int]
    users: int
    cpu: dict[str, float]
    demand: dict[str, float]
    sent: int = 0
    late: int = 0
    due: int = 0
    excluded: str = ""
    extra: dict[str, float] = field(default_factory=dict)


def _counts(row: dict[str, Any], key: str, where: str) -> dict[str, int]:
    raw = J.obj(TOOL, row, key, {})
    return {str(k): J.count(TOOL, raw, k) for k in raw} if raw else {}


def read_intervals(loc: dict[str, Any], window: tuple[float, float]) -> list[Interval]:
    """The merged intervals of the plugin's document, typed; [] for documents without."""
    raw = loc.get("intervals")
    if raw is None:
        return []
    raw = J.obj(TOOL, loc, "intervals")
    size = J.num(TOOL, raw, "interval_s")
    rows = J.array(TOOL, raw, "rows")
    if size <= 0:
        raise ParseError(TOOL, f"locust.intervals.interval_s is {size:g}")
    out: list[Interval] = []
    if not all(isinstance(row, dict) for row in rows):
        raise ParseError(TOOL, "locust.intervals.rows: every row must be an object")
    first_key = min((J.count(TOOL, row, "key") for row in rows), default=0)
    for i, row in enumerate(rows):
        where = f"locust.intervals.rows[{i}]"
        key = J.count(TOOL, row, "key")
        start = key * size
        hists = {}
        hdr = J.obj(TOOL, row, "hdr", {})
        for name in hdr:
            try:
                hists[str(name)] = decode(J.text(TOOL, hdr, name))
            except HdrDecodeError as exc:
                raise ParseError(TOOL, f"{where}.hdr[{str(name)[:60]!r}]: {exc}") from None
        requests, failures = _counts(row, "requests", where), _counts(row, "failures", where)
        if any(failures.get(k, 0) > n for k, n in requests.items()):
            raise ParseError(TOOL, f"{where}: more failures than requests")
        lo, hi = max(start, window[0]), min(start + size, window[1])
        out.append(Interval(
            index=key - first_key, start=start, covered_s=max(hi - lo, 0.0), hists=hists,
            requests=requests, failures=failures, users=J.count(TOOL, row, "users", 0),
            cpu={str(k): J.num(TOOL, row["cpu"], k) for k in J.obj(TOOL, row, "cpu", {})},
            demand={str(k): J.num(TOOL, row["demand"], k)
                    for k in J.obj(TOOL, row, "demand", {})},
            sent=J.count(TOOL, row, "sent", 0), late=J.count(TOOL, row, "late", 0),
            due=J.count(TOOL, row, "due", 0)))
    return out


def mark(intervals: list[Interval], t_start: float, warmup_s: float, cpu_limit: float) -> None:
    """Set `excluded` on warm-up and saturated intervals."""
    for iv in intervals:
        if warmup_s and iv.start - t_start < warmup_s:
            iv.excluded = WARMUP
            continue
        series = iv.demand or iv.cpu
        if any(v > cpu_limit for v in series.values()):
            iv.excluded = SATURATED


def verdict(intervals: list[Interval], max_saturated_pct: float,
            cpu_limit: float) -> tuple[list[str], list[str]]:
    """(reasons the unit is invalid, notes on what was left out)."""
    reasons, notes = [], []
    warm = [iv for iv in intervals if iv.excluded == WARMUP]
    measured = [iv for iv in intervals if iv.excluded != WARMUP]
    hot = [iv for iv in measured if iv.excluded == SATURATED]
    if warm:
        n = sum(sum(iv.requests.values()) for iv in warm)
        notes.append(f"warm-up: {len(warm)} interval(s) at the start left out of the "
                     f"statistics ({n} requests)")
    if hot:
        which = ", ".join(str(iv.index) for iv in hot[:10]) + (", ..." if len(hot) > 10 else "")
        pct = 100.0 * len(hot) / len(measured)
        notes.append(f"{len(hot)} of {len(measured)} interval(s) ({pct:.1f}%) left out: a "
                     f"load-generator process above {cpu_limit:.0f}% CPU demand "
                     f"(interval {which})")
        if pct > max_saturated_pct:
            reasons.append(f"load generator saturated in {len(hot)} of {len(measured)} "
                           f"intervals ({pct:.1f}% > max_saturated_pct "
                           f"{max_saturated_pct:g}%)")
    if measured and not [iv for iv in measured if not iv.excluded]:
        reasons.append("every measured interval was left out")
    return reasons, notes


def kept(intervals: list[Interval]) -> tuple[dict[str, dict[str, Any]], float]:
    """Per endpoint, the merged histogram and counts of the intervals kept; their seconds."""
    out: dict[str, dict[str, Any]] = {}
    for iv in intervals:
        if iv.excluded:
            continue
        for name, n in iv.requests.items():
            ep = out.setdefault(name, {"hist": new_histogram(), "requests": 0, "failures": 0})
            ep["requests"] += n
            ep["failures"] += iv.failures.get(name, 0)
            if name in iv.hists:
                ep["hist"].add(iv.hists[name])
    return out, sum(iv.covered_s for iv in intervals if not iv.excluded)


def _intended(params: Any, iv: Interval, t_start: float, size: float) -> dict[str, float]:
    """What the scenario asked for: the constant-rate schedule's sends over the covered
    seconds, or the users the steps ask for at the interval's end (within the run)."""
    if getattr(params, "mode", "closed") == "constant-rate":
        return {"intended_rps": iv.due / iv.covered_s if iv.covered_s else 0.0,
                "late_sends": float(iv.late)}
    steps = locust_steps(getattr(params, "shape", None)) or [
        {"users": params.users, "spawn_rate": params.spawn_rate,
         "duration_s": params.duration_s}]
    run_s = sum(s["duration_s"] for s in steps)
    at = min(iv.start + size - t_start, run_s - 1e-6)
    return {"intended_users": round(intended_users(steps, at), 1)}


def interval_rows(intervals: list[Interval], params: Any, rename: dict[str, str],
                  t_start: float, size: float, valid: bool) -> list[Histogram]:
    rows: list[Histogram] = []
    for iv in intervals:
        common = {"valid": valid, "interval_s": size, "offset_s": round(iv.start - t_start, 3),
                  "covered_s": round(iv.covered_s, 3), "users": iv.users,
                  "loadgen_cpu_peak": max(iv.cpu.values(), default=0.0),
                  "loadgen_cpu_demand_peak": max(iv.demand.values(), default=0.0),
                  "excluded": iv.excluded, **_intended(params, iv, t_start, size)}
        total = new_histogram()
        names = sorted(iv.requests)
        for name in names:
            hist = iv.hists.get(name) or new_histogram()
            total.add(hist)
            rows.append(_row(rename.get(name, name), hist, iv, iv.requests[name],
                             iv.failures.get(name, 0), common))
        rows.append(_row("all", total, iv, sum(iv.requests.values()),
                         sum(iv.failures.values()), common))
    return rows


def _row(endpoint: str, hist: Any, iv: Interval, n: int, errors: int,
         common: dict[str, Any]) -> Histogram:
    meta = {"endpoint": endpoint, **common, "requests": n, "errors": errors,
            "rps": round(n / iv.covered_s, 3) if iv.covered_s else 0.0}
    return Histogram(f"interval_latency:{endpoint}", encode(hist), "us", meta,
                     interval=iv.index)
