"""Per-interval HDR histograms and counters of one Locust process, and their exact merge.

Intervals are keyed by floor(epoch seconds / interval_s), so every process on every load
host puts a request in the same interval without exchanging a time origin (hosts are
NTP-synchronised; on one machine they share the clock). A request belongs to the interval
in which it was sent (constant-rate: its intended send time), so a slow interval's
latencies stay in that interval however late the replies come.

Only the newest few intervals keep a live histogram (one of this project's range is about
190 KB); older ones are encoded (a few hundred bytes) and dropped. A reply that arrives for
an encoded interval reopens it (decode, add, encode again at the next tick).
"""

from __future__ import annotations

import math
from typing import Any

from bench.hdr import decode, encode, new_histogram, record_us

OPEN_INTERVALS = 5  # intervals kept live behind the current one


class IntervalRecorder:
    """This process's intervals; `payload()` is msgpack-safe (string keys)."""

    def __init__(self, interval_s: int) -> None:
        self.interval_s = max(1, int(interval_s))
        self.live: dict[int, dict[str, Any]] = {}
        self.closed: dict[int, dict[str, str]] = {}
        self.requests: dict[int, dict[str, int]] = {}
        self.failures: dict[int, dict[str, int]] = {}
        self.users: dict[int, int] = {}
        self.cpu: dict[int, float] = {}
        self.demand: dict[int, float] = {}
        self.sent: dict[int, int] = {}
        self.late: dict[int, int] = {}

    def key(self, t: float) -> int:
        return math.floor(t / self.interval_s)

    def _hist(self, k: int, endpoint: str) -> Any:
        hists = self.live.setdefault(k, {})
        if endpoint not in hists:
            old = self.closed.get(k, {}).pop(endpoint, None)
            hists[endpoint] = decode(old) if old else new_histogram()
        return hists[endpoint]

    def request(self, sent_at: float, endpoint: str, latency_us: float | None) -> None:
        """One request sent at `sent_at` (epoch s); latency None = failed (an error)."""
        k = self.key(sent_at)
        counts = self.requests.setdefault(k, {})
        counts[endpoint] = counts.get(endpoint, 0) + 1
        if latency_us is None:
            fails = self.failures.setdefault(k, {})
            fails[endpoint] = fails.get(endpoint, 0) + 1
            return
        record_us(self._hist(k, endpoint), latency_us)

    def send(self, intended_at: float, late: bool) -> None:
        k = self.key(intended_at)
        self.sent[k] = self.sent.get(k, 0) + 1
        self.late[k] = self.late.get(k, 0) + int(late)

    def sample(self, window_end: float, users: int, cpu: float, demand: float | None) -> None:
        """A one-second sample ending at `window_end`: kept for the interval it lies in."""
        k = self.key(window_end - 0.5)
        self.users[k] = max(self.users.get(k, 0), users)
        self.cpu[k] = max(self.cpu.get(k, 0.0), cpu)
        if demand is not None:
            self.demand[k] = max(self.demand.get(k, 0.0), demand)
        self.close_before(self.key(window_end) - OPEN_INTERVALS)

    def close_before(self, k_limit: float) -> None:
        for k in [k for k in self.live if k < k_limit]:
            encoded = self.closed.setdefault(k, {})
            for endpoint, hist in self.live.pop(k).items():
                encoded[endpoint] = encode(hist)

    def payload(self, due: dict[int, int] | None = None) -> dict[str, Any]:
        self.close_before(math.inf)
        keys = set(self.requests) | set(self.users) | set(self.sent)
        rows: dict[str, Any] = {}
        for k in sorted(keys):
            rows[str(k)] = {
                "hdr": dict(self.closed.get(k, {})), "requests": self.requests.get(k, {}),
                "failures": self.failures.get(k, {}), "users": self.users.get(k),
                "cpu": self.cpu.get(k), "demand": self.demand.get(k),
                "sent": self.sent.get(k, 0), "late": self.late.get(k, 0),
                "due": (due or {}).get(k, 0)}
        return {"interval_s": self.interval_s, "rows": rows}


def merge_intervals(parts: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Merge every process's intervals by key: histograms bucket by bucket, counts added,
    users summed (a process without a sample in an interval carries its last count),
    CPU kept per process (the guard asks whether *any* process was saturated)."""
    interval_s = next((p["interval_s"] for _, p in parts), 1)
    merged: dict[int, dict[str, Any]] = {}
    for pid, part in parts:
        last_users = 0
        for key in sorted(part["rows"], key=int):
            row = part["rows"][key]
            m = merged.setdefault(int(key), {"hdr": {}, "requests": {}, "failures": {},
                                             "users": 0, "cpu": {}, "demand": {},
                                             "sent": 0, "late": 0, "due": 0})
            for endpoint, enc in row["hdr"].items():
                m["hdr"].setdefault(endpoint, new_histogram()).add(decode(enc))
            for kind in ("requests", "failures"):
                for endpoint, n in row[kind].items():
                    m[kind][endpoint] = m[kind].get(endpoint, 0) + n
            if row["users"] is not None:
                last_users = row["users"]
            m["users"] += last_users
            for kind in ("cpu", "demand"):
                if row[kind] is not None:
                    m[kind][pid] = row[kind]
            for kind in ("sent", "late", "due"):
                m[kind] += row[kind]
    return {"interval_s": interval_s,
            "rows": [{"key": k, "start": k * interval_s,
                      **{f: v for f, v in m.items() if f != "hdr"},
                      "hdr": {e: encode(h) for e, h in sorted(m["hdr"].items())}}
                     for k, m in sorted(merged.items())]}
