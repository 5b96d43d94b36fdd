"""iperf3's totals checked against its streams and intervals.

iperf3 -J reports every figure twice: per stream and summed (`end.streams` against
`end.sum_sent`/`end.sum_received`, each interval's `streams` against its `sum`), and
each rate beside the bytes and seconds it comes from. On the captured outputs of iperf3
3.1.3, 3.12 and 3.21 (tests/golden/iperf3/) the sums are exact and the rates agree with
bytes x 8 / (end - start) to 0.01 %. Not with `seconds`: a stream's receiver `seconds` is
the sender's time (a live 3.12 run under load printed 1.00085 s beside a rate 8.6 % below
bytes x 8 / seconds). The number of streams matches the test's `num_streams`, and the
sender's intervals add up to its total retransmits. The received total may exceed the
sent one (with -O the receiver counts the omitted seconds), so that pair is not compared.
"""

from __future__ import annotations

from typing import Any

from core.errors import ParseError

TOOL = "iperf3"
RATE_TOL = 0.01
DURATION_SLACK_S = 1.0  # a run ends after its last full interval


def _n(d: Any, key: str) -> float | None:
    v = d.get(key) if isinstance(d, dict) else None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _rate(part: Any, where: str) -> None:
    """bits_per_second = bytes x 8 over `end` - `start`: iperf3 3.12 prints a stream's
    receiver `seconds` as the sender's time but divides by the receiver's (its `end`)."""
    bps, nbytes = _n(part, "bits_per_second"), _n(part, "bytes")
    start, stop = _n(part, "start"), _n(part, "end")
    seconds = stop - start if start is not None and stop is not None else _n(part, "seconds")
    if bps is None or nbytes is None or seconds is None or seconds <= 0:
        return
    expected = nbytes * 8 / seconds
    if abs(bps - expected) > RATE_TOL * expected + 8:
        raise ParseError(TOOL, f"{where}.bits_per_second {bps:g}, but {nbytes:g} bytes in "
                               f"{seconds:g} s is {expected:.6g}")


def _sum_matches(parts: list[Any], total: Any, key: str, what: str, where: str) -> None:
    values = [_n(p, key) for p in parts]
    whole = _n(total, key)
    if not parts or whole is None or any(v is None for v in values):
        return
    added = sum(v for v in values if v is not None)
    if added != whole:
        raise ParseError(TOOL, f"the {what} {key} add up to {added:g}, but {where}.{key} "
                               f"says {whole:g}")


def check_streams(doc: dict[str, Any]) -> None:
    """end.streams against num_streams and against end.sum_sent / end.sum_received."""
    end = doc.get("end") if isinstance(doc.get("end"), dict) else {}
    start = doc.get("start") if isinstance(doc.get("start"), dict) else {}
    test = start.get("test_start") if isinstance(start.get("test_start"), dict) else {}
    streams = _dicts(end.get("streams"))
    declared = _n(test, "num_streams")
    if declared is not None and isinstance(end.get("streams"), list) \
            and len(end["streams"]) != declared:
        raise ParseError(TOOL, f"start.test_start.num_streams is {declared:g}, but end.streams "
                               f"lists {len(end['streams'])} streams")
    senders = [s.get("sender") for s in streams]
    receivers = [s.get("receiver") for s in streams]
    _sum_matches(senders, end.get("sum_sent"), "bytes", "streams' sender", "end.sum_sent")
    _sum_matches(senders, end.get("sum_sent"), "retransmits", "streams' sender",
                 "end.sum_sent")
    _sum_matches(receivers, end.get("sum_received"), "bytes", "streams' receiver",
                 "end.sum_received")
    for where in ("sum_sent", "sum_received"):
        _rate(end.get(where), f"end.{where}")
    for i, s in enumerate(streams):
        for side in ("sender", "receiver"):
            _rate(s.get(side), f"end.streams[{i}].{side}")


def check_intervals(doc: dict[str, Any]) -> None:
    """Each interval's streams against its sum; the sender's retransmits against the total."""
    intervals = _dicts(doc.get("intervals"))
    end = doc.get("end") if isinstance(doc.get("end"), dict) else {}
    start = doc.get("start") if isinstance(doc.get("start"), dict) else {}
    test = start.get("test_start") if isinstance(start.get("test_start"), dict) else {}
    reverse = bool(_n(test, "reverse"))
    retransmits = 0.0
    counted = False
    for i, item in enumerate(intervals):
        s = item.get("sum")
        if not isinstance(s, dict):
            continue
        r = _n(s, "retransmits")
        if r is not None and not s.get("omitted") and s.get("sender", not reverse) is True:
            retransmits += r
            counted = True
        _rate(s, f"intervals[{i}].sum")
    total = _n(end.get("sum_sent"), "retransmits")
    if counted and total is not None and retransmits != total:
        raise ParseError(TOOL, f"the sender's intervals retransmit {retransmits:g} times, but "
                               f"end.sum_sent.retransmits says {total:g}")
    for i, item in enumerate(intervals):
        parts = _dicts(item.get("streams"))
        for key in ("bytes", "retransmits"):
            _sum_matches(parts, item.get("sum"), key, f"interval {i}'s streams'",
                         f"intervals[{i}].sum")


def check_duration(doc: dict[str, Any]) -> None:
    """A time-bounded test (`duration` > 0) cannot send for longer than it lasted."""
    start = doc.get("start") if isinstance(doc.get("start"), dict) else {}
    test = start.get("test_start") if isinstance(start.get("test_start"), dict) else {}
    end = doc.get("end") if isinstance(doc.get("end"), dict) else {}
    duration, omit = _n(test, "duration"), _n(test, "omit") or 0.0
    seconds = _n(end.get("sum_sent"), "seconds")
    if duration is None or duration <= 0 or seconds is None:
        return
    if seconds > duration + omit + DURATION_SLACK_S:
        raise ParseError(TOOL, f"end.sum_sent.seconds is {seconds:g}, but the test lasted "
                               f"{duration:g} s (+{omit:g} s omitted)")
