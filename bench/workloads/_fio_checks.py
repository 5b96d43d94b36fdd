"""fio's report checked against itself: each rate against its counts, each latency
summary against its parts, each distribution against its whole.

fio derives every figure of a job's report from the same counters, so within one entry
they must agree (all relations hold to rounding on the captured outputs of fio 2.1.4,
2.21, 3.1 and 3.33 in tests/golden/fio/):

- iops = total_ios / runtime and bw (KiB/s) = io_kbytes / runtime (fio 2.1 prints the
  KiB count as `io_bytes`); bw_bytes = io_bytes / runtime = bw x 1024; io_bytes =
  io_kbytes x 1024; with a single block size, iops x bs = bandwidth;
- clat min <= mean <= max, its percentiles rise with their rank and stay within the max
  (fio reports a histogram bucket's value, so up to ~1.6 % above), its N (fio 3) is the
  I/O count give or take the I/Os in flight when a ramp ends; total latency = submission
  + completion latency;
- the direction's runtime fits in the job's elapsed seconds (fio truncates both);
- the I/O depth and latency distributions are percentages of all I/Os: they add up to 100
  (each rounded; a captured iodepth_level adds up to 100.38, so 98-102 is allowed).

A value outside these relations is no output of one fio run; the parser refuses it and
names the pair that disagrees. Absent fields (older fios) are not checked.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from core.errors import ParseError

TOOL = "fio"
RATE_TOL = 0.01  # rates against counts / runtime: fio rounds rates to whole KiB/s
BUCKET_TOL = 0.02  # a percentile is a histogram bucket's value
DIST_RANGE = (98.0, 102.0)  # a distribution of percentages, each rounded


def _n(d: Any, key: str) -> float | None:
    """A number at d[key], or None (absent or not a number: other checks name that)."""
    v = d.get(key) if isinstance(d, dict) else None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def _f(v: float) -> str:
    """A whole number in full (a count, a ns latency), anything else to 6 digits."""
    return f"{v:.0f}" if float(v).is_integer() and abs(v) < 1e15 else f"{v:.6g}"


def _rank(key: str) -> float:
    """A percentile table's key as a number; 0 (skipped) when it is none."""
    try:
        value = float(key)
    except ValueError:
        return 0.0
    return value if 0 < value <= 100 else 0.0


def _off(got: float, expected: float, tol: float = RATE_TOL, floor: float = 1.0) -> bool:
    return abs(got - expected) > tol * abs(expected) + floor


def check_iops(stats: dict[str, Any], iops: float, where: str) -> None:
    """A job's IOPS is its I/O count over its runtime (fio 2.2+ print both: `total_ios`,
    `runtime` in ms); a summary that disagrees with its own counts is refused."""
    ios, runtime_ms = _n(stats, "total_ios"), _n(stats, "runtime")
    if ios is None or runtime_ms is None or runtime_ms <= 0 or iops < 0:
        return  # a negative rate is the plausibility gate's to name
    expected = ios * 1000.0 / runtime_ms
    if _off(iops, expected):
        raise ParseError(TOOL, f"{where}: iops {_f(iops)}, but total_ios {_f(ios)} in "
                               f"{_f(runtime_ms)} ms is {expected:.6g}")


def check_bandwidth(stats: dict[str, Any], version: tuple[int, int] | None, where: str) -> None:
    """bw, bw_bytes, io_bytes and io_kbytes against each other and the runtime."""
    runtime = _n(stats, "runtime")
    io_b, io_kb = _n(stats, "io_bytes"), _n(stats, "io_kbytes")
    bw, bw_b = _n(stats, "bw"), _n(stats, "bw_bytes")
    if io_b is not None and io_kb is not None and _off(io_b, io_kb * 1024, 0.0, 1023.0):
        raise ParseError(TOOL, f"{where}: io_bytes {_f(io_b)}, but io_kbytes {_f(io_kb)} is "
                               f"{_f(io_kb * 1024)} bytes")
    if bw is not None and bw_b is not None and _off(bw_b, bw * 1024, RATE_TOL, 1024.0):
        raise ParseError(TOOL, f"{where}: bw_bytes {_f(bw_b)} B/s, but bw {_f(bw)} KiB/s is "
                               f"{_f(bw * 1024)} B/s")
    if runtime is None or runtime <= 0:
        return
    if io_kb is None and version is not None and version < (2, 2):
        io_kb = io_b  # fio 2.1 prints the KiB count under the name io_bytes
    if bw is not None and io_kb is not None and _off(bw, io_kb * 1000.0 / runtime):
        raise ParseError(TOOL, f"{where}: bw {_f(bw)} KiB/s, but {_f(io_kb)} KiB in {_f(runtime)} "
                               f"ms is {io_kb * 1000.0 / runtime:.6g} KiB/s")
    if bw_b is not None and io_b is not None and _off(bw_b, io_b * 1000.0 / runtime,
                                                       RATE_TOL, 1024.0):
        raise ParseError(TOOL, f"{where}: bw_bytes {_f(bw_b)} B/s, but io_bytes {_f(io_b)} in "
                               f"{_f(runtime)} ms is {io_b * 1000.0 / runtime:.6g} B/s")


def check_block_size(stats: dict[str, Any], options: Any, iops: float, where: str) -> None:
    """With one fixed block size (`bs: 4k`), every I/O moves bs bytes: iops x bs = bw."""
    bs_text = options.get("bs") if isinstance(options, dict) else None
    bw = _n(stats, "bw")
    m = re.fullmatch(r"(\d+)([kKmMgG]?)i?[bB]?", bs_text) if isinstance(bs_text, str) else None
    if m is None or bw is None or iops <= 0:
        return
    bs_kib = int(m.group(1)) * 1024 ** " kmg".index(m.group(2).lower() or " ") / 1024
    if bs_kib > 0 and _off(iops * bs_kib, bw, RATE_TOL, bs_kib):
        raise ParseError(TOOL, f"{where}: iops {_f(iops)} x bs {bs_text} is "
                               f"{iops * bs_kib:.6g} KiB/s, but bw says {_f(bw)} KiB/s")


def in_flight(options: Any, ios: float) -> float:
    """How many I/Os may be in flight when a ramp ends (iodepth x numjobs; 1 % of the
    count when the job's options do not say): those complete after the ramp and have a
    latency in clat's N but are not in total_ios (a live io_uring run, iodepth 16 with
    ramp_time: N 27012, total_ios 26997)."""
    opts = options if isinstance(options, dict) else {}
    depth, jobs = (str(opts.get(k, "")) for k in ("iodepth", "numjobs"))
    if depth.isdigit():
        return float(int(depth) * (int(jobs) if jobs.isdigit() else 1))
    return 0.01 * ios


def check_latency(stats: dict[str, Any], clat: dict[str, Any], ns: bool, where: str,
                  options: Any = None) -> None:
    """clat's own summary, its percentiles, its N, and lat = slat + clat."""
    unit = "ns" if ns else "us"
    low, mean, high = _n(clat, "min"), _n(clat, "mean"), _n(clat, "max")
    if low is not None and mean is not None and high is not None and high > 0 \
            and not low <= mean <= high:
        raise ParseError(TOOL, f"{where}: clat min/mean/max {_f(low)}/{_f(mean)}/{_f(high)} {unit} "
                               "are out of order")
    count, ios = _n(clat, "N"), _n(stats, "total_ios")
    if count is not None and ios is not None and abs(count - ios) > in_flight(options, ios):
        raise ParseError(TOOL, f"{where}: clat holds {_f(count)} latencies, but total_ios "
                               f"says {_f(ios)} I/Os")
    table = clat.get("percentile")
    if isinstance(table, dict):
        ranked = sorted((_rank(k), v) for k, v in table.items() if _n(table, k) is not None)
        values = [(k, v) for k, v in ranked if k > 0]  # fio 2.x pads with "0.00": 0
        for (k1, v1), (k2, v2) in itertools.pairwise(values):
            if v2 < v1:
                raise ParseError(TOOL, f"{where}: clat p{_f(k2)} {_f(v2)} {unit} is below "
                                       f"p{_f(k1)} {_f(v1)} {unit} (percentiles cannot fall)")
        if high is not None and values and values[-1][1] > high * (1 + BUCKET_TOL) + 1:
            k, v = values[-1]
            raise ParseError(TOOL, f"{where}: clat p{_f(k)} {_f(v)} {unit} is above the "
                                   f"max {_f(high)} {unit}")
    lat = stats.get("lat_ns" if ns else "lat")
    slat = stats.get("slat_ns" if ns else "slat")
    total, sub = _n(lat, "mean"), _n(slat, "mean")
    if total is None or mean is None or sub is None or (total == 0 and mean == 0):
        return
    # Synchronous engines (psync, sync) do not measure slat (0) while lat still includes
    # the submission, so lat exceeds clat by that overhead (730.7 ns against 715.4 ns in a
    # fio 3.33 psync run here): then only lat >= clat holds.
    short = total < (sub + mean) * (1 - RATE_TOL) - 5.0
    if short or (sub > 0 and _off(total, sub + mean, RATE_TOL, 5.0)):
        raise ParseError(TOOL, f"{where}: lat mean {_f(total)} {unit}, but slat {_f(sub)} + "
                               f"clat {_f(mean)} is {sub + mean:g} {unit}")


def check_job(job: dict[str, Any], where: str) -> None:
    """Job-wide relations: runtimes within the elapsed time, distributions adding to 100."""
    elapsed = _n(job, "elapsed")
    if elapsed is not None and elapsed > 0:
        for direction in ("read", "write"):
            runtime = _n(job.get(direction), "runtime")
            if runtime is not None and runtime > (elapsed + 1) * 1000:
                raise ParseError(TOOL, f"{where}: {direction} runtime {_f(runtime)} ms, but the "
                                       f"job ran {_f(elapsed)} s")
    for name, keys in (("iodepth_level", ("iodepth_level",)),
                       ("latency distribution", ("latency_ns", "latency_us", "latency_ms"))):
        parts = [job[k] for k in keys if isinstance(job.get(k), dict)]  # 2.x: no latency_ns
        if not parts:
            continue
        values = [_n(p, k) for p in parts for k in p]
        if any(v is None for v in values):
            continue
        total = sum(v for v in values if v is not None)
        if total and not DIST_RANGE[0] <= total <= DIST_RANGE[1]:
            raise ParseError(TOOL, f"{where}: the {name} adds up to {total:.4g} %, not 100 %")
