"""HDR histogram helpers: one configuration, exact merges, percentiles in milliseconds.

Latencies are recorded in integer microseconds into histograms with the same range and
precision everywhere (load-generator processes, pgbench logs, repetitions), so adding
two histograms gives exactly the histogram of the union of their samples. That is why
requirements such as "p99 < 150 ms" are evaluated by merging histograms instead of
averaging per-repetition percentiles.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from hdrh import codec
from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour: anything slower is clamped and counted as such
SIGNIFICANT_FIGURES = 3
UNIT = "us"
MAX_ENCODED_BYTES = 4 * 1024 * 1024  # a full histogram of this range encodes to < 300 KB
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024  # inflated size limit (no zip bombs)

REPORTED_PERCENTILES: dict[str, float] = {
    "latency_p50": 50.0, "latency_p95": 95.0, "latency_p99": 99.0, "latency_p999": 99.9,
}


def new_histogram() -> HdrHistogram:
    """An empty histogram with the project-wide configuration."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)


def record_us(hist: HdrHistogram, value_us: float) -> bool:
    """Record one latency; values outside the range are clamped. Returns False if clamped."""
    v = round(value_us)
    clamped = v < LOWEST_US or v > HIGHEST_US
    hist.record_value(min(max(v, LOWEST_US), HIGHEST_US))
    return not clamped


def encode(hist: HdrHistogram) -> str:
    """The compressed, base64 text form (as hdrhistogram's encode()) used in parquet files."""
    return hist.encode().decode("ascii")


class HdrDecodeError(ValueError):
    """An encoded histogram that is not a valid histogram of this project's range."""


def _check_blob(raw: bytes) -> None:
    """Validate the base64/zlib envelope and settings before hdrh allocates anything.

    hdrh raises a zoo of exceptions on damaged input (binascii, zlib, struct, cookie and
    length errors, IndexError) and trusts the header's range and precision, so a
    corrupted header can ask for huge count arrays and a small blob can inflate to
    gigabytes. This checks the blob's shape first and reports one HdrDecodeError.
    """
    if len(raw) > MAX_ENCODED_BYTES:
        raise HdrDecodeError(f"encoded histogram of {len(raw)} bytes is too large")
    try:
        blob = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise HdrDecodeError(f"not base64 ({exc})") from None
    if len(blob) < codec.ext_header_size:
        raise HdrDecodeError("too short for an HDR histogram")
    header = codec.ExternalHeader.from_buffer_copy(blob)
    if header.length != len(blob) - codec.ext_header_size:
        raise HdrDecodeError("length field does not match the data (truncated?)")
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(blob[codec.ext_header_size:], MAX_PAYLOAD_BYTES)
    except zlib.error as exc:
        raise HdrDecodeError(f"damaged compressed payload ({exc})") from None
    if inflater.unconsumed_tail or len(data) < codec.payload_header_size:
        raise HdrDecodeError("payload size out of range")
    payload = codec.PayloadHeader.from_buffer_copy(data)
    if not (LOWEST_US <= payload.lowest_trackable_value <= payload.highest_trackable_value
            <= HIGHEST_US and 1 <= payload.significant_figures <= SIGNIFICANT_FIGURES):
        raise HdrDecodeError(
            f"settings {payload.lowest_trackable_value}..{payload.highest_trackable_value} "
            f"at {payload.significant_figures} significant figures do not fit "
            f"{LOWEST_US}..{HIGHEST_US} us at {SIGNIFICANT_FIGURES}")


def decode(encoded: str | bytes) -> HdrHistogram:
    """Decode into a histogram with the project configuration (so it can be merged).

    Raises HdrDecodeError (a ValueError) for anything that is not a valid histogram:
    damaged base64 or zlib data, wrong lengths, foreign settings, negative counts.
    """
    try:
        raw = encoded.encode("ascii") if isinstance(encoded, str) else bytes(encoded)
    except (UnicodeEncodeError, TypeError) as exc:
        raise HdrDecodeError(f"not an encoded histogram ({exc})") from None
    _check_blob(raw)
    try:
        decoded = HdrHistogram.decode(raw)
    except Exception as exc:  # hdrh signals damage with many exception types
        raise HdrDecodeError(f"damaged histogram ({type(exc).__name__}: {exc})") from None
    if decoded.get_total_count() < 0 or any(c < 0 for c in decoded.counts):
        raise HdrDecodeError("negative bucket counts")
    if decoded.get_total_count() == 0:
        return new_histogram()
    out = new_histogram()
    try:
        out.add(decoded)
    except IndexError as exc:
        raise HdrDecodeError(f"values out of range ({exc})") from None
    return out


def merge(encoded: Iterable[str | bytes]) -> HdrHistogram:
    """Exact merge: the counts of every bucket are added."""
    total = new_histogram()
    for item in encoded:
        total.add(decode(item))
    return total


def mean_us(hist: HdrHistogram) -> float:
    """hdrh's get_mean_value (median-equivalent value of each bucket, count-weighted),
    visiting only non-empty buckets: hdrh walks all ~23,000 buckets of this range in
    Python through an iterator, which made one http-load parse take ~0.4 s."""
    n = hist.get_total_count()
    if not n:
        return 0.0
    total = 0
    for index, count in enumerate(hist.counts):
        if count:
            top = hist.get_highest_equivalent_value(hist.get_value_from_index(index))
            total += count * hist._hdr_median_equiv_value(top)
    return float(total) / n


def summary_ms(hist: HdrHistogram) -> dict[str, float]:
    """p50/p95/p99/p99.9, mean, min and max in milliseconds (empty histogram → empty dict)."""
    if hist.get_total_count() == 0:
        return {}
    out = {name: hist.get_value_at_percentile(p) / 1000.0
           for name, p in REPORTED_PERCENTILES.items()}
    out["latency_mean"] = mean_us(hist) / 1000.0
    out["latency_min"] = hist.get_min_value() / 1000.0
    out["latency_max"] = hist.get_max_value() / 1000.0
    return out


def latency_histogram_name(endpoint: str | None = None) -> str:
    """The histogram name used by http-load and db-query: `latency:<endpoint>` or `latency:all`."""
    return f"latency:{endpoint or 'all'}"


def _rows(rows: Any) -> list[Mapping[str, Any]]:
    if hasattr(rows, "to_dict"):  # a pandas DataFrame
        return list(rows.to_dict("records"))
    return list(rows)


def _valid(row: Mapping[str, Any]) -> bool:
    """False when the row's `valid` column or its metadata says so (saturated runs)."""
    flag = row.get("valid")
    if flag is not None and flag == flag and not bool(flag):  # flag == flag: not NaN
        return False
    meta = row.get("metadata") or {}
    if isinstance(meta, str):
        meta = json.loads(meta) if meta.strip() else {}
    return meta.get("valid", True) is not False


def _whole_unit(row: Mapping[str, Any]) -> bool:
    """False for a per-interval row (latency over time), which must not be merged again."""
    interval = row.get("interval")
    if interval is None:
        return True
    try:
        return bool(interval != interval)  # NaN: a whole-unit row
    except TypeError:  # pandas NA (a nullable integer column's null)
        return True


def merged_histogram(rows: Any, name: str, include_invalid: bool = False) -> HdrHistogram:
    """Merge every row (histograms.parquet rows or dicts) called `name`, by default only rows
    whose metadata does not say valid=false (saturated load generators)."""
    picked = [r["encoded"] for r in _rows(rows)
              if r.get("name") == name and (include_invalid or _valid(r))
              and _whole_unit(r)]
    if not picked:
        raise ValueError(f"no valid histogram named {name!r} in the given rows")
    return merge(picked)


def merged_percentile(rows: Any, name: str, percentile: float,
                      include_invalid: bool = False) -> float:
    """The `percentile` (0–100) in ms of the exact merge of the histograms called `name`."""
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    hist = merged_histogram(rows, name, include_invalid)
    return hist.get_value_at_percentile(percentile) / 1000.0


def requirement_value(rows: Any, metric: str, where: Mapping[str, str] | None = None,
                      include_invalid: bool = False) -> float | None:
    """Evaluate an HDR-backed latency metric (`latency_p99`, `latency_p50`, `latency_mean`...)
    for an optional endpoint filter; None when the metric is not HDR-backed."""
    where = where or {}
    name = latency_histogram_name(where.get("endpoint"))
    if metric in REPORTED_PERCENTILES:
        return merged_percentile(rows, name, REPORTED_PERCENTILES[metric], include_invalid)
    if metric == "latency_mean":
        return merged_histogram(rows, name, include_invalid).get_mean_value() / 1000.0
    if metric.startswith("latency_p") and metric[9:].isdigit():
        digits = metric[9:]
        pct = float(digits) if len(digits) <= 2 else float(digits[:2] + "." + digits[2:])
        return merged_percentile(rows, name, pct, include_invalid)
    return None
