"""Counts checked against what the run's duration and volume allow (iperf3, pgbench).

A parser's summary must agree with its own details: a TCP sender cannot retransmit more
segments than it sent (a segment carries at least TCP_MIN_MSS = 88 bytes in Linux), the
per-interval byte counts add up to the total (omitted intervals aside), and pgbench cannot
complete or fail more transactions than its clients can run in the time (at most one per
microsecond per client), nor more than `tps x duration` says it processed.
"""

from __future__ import annotations

from typing import Any

from core.errors import ParseError

MIN_SEGMENT_BYTES = 88  # Linux TCP_MIN_MSS
MAX_TX_PER_CLIENT_S = 1_000_000  # a transaction takes at least a microsecond
INTERVAL_TOLERANCE = 0.05  # sums of rounded interval counts against the total


def check_iperf3(sent: dict[str, Any], intervals: Any, retransmits: int | None) -> None:
    sent_bytes = sent.get("bytes")
    if not isinstance(sent_bytes, (int, float)) or isinstance(sent_bytes, bool):
        return
    if retransmits is not None and retransmits > sent_bytes / MIN_SEGMENT_BYTES + 1:
        raise ParseError("iperf3", f"{retransmits} retransmits, but {sent_bytes:g} bytes sent "
                                   f"make at most {int(sent_bytes // MIN_SEGMENT_BYTES)} segments")
    if not isinstance(intervals, list) or not intervals:
        return
    total = 0.0
    for item in intervals:
        s = item.get("sum") if isinstance(item, dict) else None
        if not isinstance(s, dict) or s.get("omitted"):
            continue
        b = s.get("bytes")
        if isinstance(b, (int, float)) and not isinstance(b, bool):
            total += b
    if total and abs(total - sent_bytes) > INTERVAL_TOLERANCE * max(sent_bytes, total):
        raise ParseError("iperf3", f"the intervals add up to {total:g} bytes, but "
                                   f"end.sum_sent says {sent_bytes:g}")


def check_pgbench(transactions: int, failed: int, tps: float, duration_s: float | None,
                  clients: int | None) -> None:
    if duration_s is None or duration_s <= 0:
        return
    most = MAX_TX_PER_CLIENT_S * duration_s * (clients or 1)
    for what, n in (("transactions", transactions), ("failed transactions", failed)):
        if n > most:
            raise ParseError("pgbench", f"{n} {what} in a {duration_s:g} s run with "
                                        f"{clients or 1} client(s): more than one per "
                                        "microsecond per client")
    # tps excludes connection time, so processed = tps x (duration - connecting) <= tps x T
    if transactions > tps * duration_s * 1.1 + (clients or 1):
        raise ParseError("pgbench", f"{transactions} transactions, but tps {tps:g} over the "
                                    f"{duration_s:g} s run allows about {tps * duration_s:.0f}")
