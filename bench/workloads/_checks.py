"""One plausibility gate for every parser's result.

Parsers read what the tool printed; this module decides whether what came out can be a
measurement at all. Every workload's `parse` is wrapped with `checked_parse(TOOL)`, so
the rules live here once instead of being repeated (or forgotten) per parser:

- every value is finite (no NaN, no inf, no 1e308) and within a generous ceiling for its
  unit (a 1 PB/s memory copy or a billion-hour latency is a corrupted output);
- quantities that cannot be negative (rates, bandwidths, latencies, counts, percentages)
  are >= 0; durations (unit `s`) are > 0, so no rate was divided by a zero duration;
- counts are whole numbers; loss, error and lateness percentages lie in 0..100;
- the result is a ParsedOutput with at least one sample.

A result that breaks a rule becomes a ParseError naming the tool, the metric and the
value; anything else a parser raises besides ParseError is a defect in that parser.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bench.samples import ParsedOutput, Sample
from core.errors import ParseError


@dataclass(frozen=True)
class Bounds:
    """Allowed range of one quantity; `positive` makes the lower bound exclusive."""

    high: float
    low: float = 0.0
    positive: bool = False
    whole: bool = False


_RATE = Bounds(1e12)  # events, operations, IOPS, transactions or requests per second
UNIT_BOUNDS: dict[str, Bounds] = {
    "s": Bounds(1e7, positive=True),  # a duration: > 0, under ~4 months
    "ms": Bounds(1e9),  # latencies: HDR histograms stop at one hour anyway
    "us": Bounds(1e12),
    "events/s": _RATE, "ops/s": _RATE, "IOPS": _RATE, "tx/s": _RATE, "req/s": _RATE,
    "MiB/s": Bounds(1e9), "MB/s": Bounds(1e9),  # up to ~1 PB/s
    "Gbit/s": Bounds(1e6),
    "count": Bounds(1e15, whole=True),
    "%": Bounds(1e6),  # CPU percentages of a multi-threaded process exceed 100
}
# Percentages of a whole (loss, errors, late sends) cannot exceed 100.
METRIC_BOUNDS: dict[str, Bounds] = {
    "packet_loss": Bounds(100.0), "error_rate": Bounds(100.0), "late_send_pct": Bounds(100.0),
    # Kubernetes: stamps of one-second resolution make 0 s real; the offset has a sign
    **dict.fromkeys(("pod_scheduled_s", "pod_initialized_s", "pod_containers_ready_s",
                     "pod_ready_s", "node_ready_s", "time_to_scale_s", "hpa_scale_up_s",
                     "replicas_ready_s", "nodes_ready_s"), Bounds(1e7)),
    "clock_offset": Bounds(1e7, low=-1e7),
}


def check_sample(tool: str, sample: Sample) -> None:
    """Raise ParseError if `sample` cannot be a real measurement."""
    value = sample.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParseError(tool, f"{sample.metric}: value {value!r} is not a number")
    if isinstance(value, int) and abs(value) > 2**63:
        raise ParseError(tool, f"{sample.metric}: value {value} is out of range")
    if not math.isfinite(float(value)):
        raise ParseError(tool, f"{sample.metric}: value {value!r} is not finite")
    bounds = METRIC_BOUNDS.get(sample.metric) or UNIT_BOUNDS.get(sample.unit)
    if bounds is None:
        return
    what = f"{sample.metric} = {value!r} {sample.unit}"
    if bounds.positive and value <= bounds.low:
        raise ParseError(tool, f"{what}: a duration must be > 0")
    if value < bounds.low:
        raise ParseError(tool, f"{what}: cannot be negative")
    if value > bounds.high:
        raise ParseError(tool, f"{what}: implausibly large (over {bounds.high:g})")
    if bounds.whole and value != int(value):
        raise ParseError(tool, f"{what}: a count must be a whole number")


def check_parsed(tool: str, parsed: Any) -> ParsedOutput:
    """Validate a parser's whole result; returns it unchanged when plausible."""
    if not isinstance(parsed, ParsedOutput):
        raise ParseError(tool, "the parser returned no samples")
    if not parsed.samples:
        raise ParseError(tool, "no sample could be read from the output")
    for sample in parsed.samples:
        check_sample(tool, sample)
    return parsed


F = TypeVar("F", bound=Callable[..., ParsedOutput])


def checked_parse(tool: str) -> Callable[[F], F]:
    """Decorate a workload's `parse` so its result passes `check_parsed` for `tool`.

    Only deep-nesting RecursionError is translated (json raises it on hostile input);
    any other exception is left alone: it is a parser defect and must stay visible.
    """

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def parse(*args: Any, **kwargs: Any) -> ParsedOutput:
            try:
                result = fn(*args, **kwargs)
            except RecursionError:
                raise ParseError(tool, "the output is nested too deeply") from None
            return check_parsed(tool, result)

        parse.__checked_tool__ = tool  # type: ignore[attr-defined]
        return parse  # type: ignore[return-value]

    return wrap
