"""ping: ICMP round-trip time from the client host to the server host, and loss.

The plan keeps ping's per-reply lines (no `-q`) so the raw output also yields an RTT
99th percentile; the summary line gives min/avg/max/mdev. Total loss is a real
measurement (packet_loss = 100, no RTT metrics), not a parse error.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import Field

from bench.samples import ParsedOutput, Sample
from bench.workloads._text import require_text
from bench.workloads.base import Plan, Step, WorkloadParams
from core.errors import ParseError

TOOL = "ping"

_STATS = re.compile(r"^(\d+) packets transmitted, (\d+) received,.*?([\d.]+)% packet loss",
                    re.MULTILINE)
_RTT = re.compile(r"^rtt min/avg/max/mdev = ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms",
                  re.MULTILINE)
_REPLY = re.compile(r"^\d+ bytes from .*? time=([\d.]+) ms(?P<dup> \(DUP!\))?", re.MULTILINE)


class Params(WorkloadParams):
    count: int = Field(100, ge=1, le=100_000)
    interval_s: float = Field(0.05, ge=0.002, le=10.0,
                              description="iputils allows non-root users down to 2 ms")
    size_bytes: int = Field(56, ge=0, le=65_000, description="ICMP payload (-s)")
    wait_s: int = Field(2, ge=1, le=60, description="how long to wait for late replies (-W)")


def nearest_rank(values: list[float], pct: float) -> float:
    """The nearest-rank percentile: an observed value, no interpolation."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


class Ping:
    name = "ping"
    tool = TOOL
    Params = Params
    # iputils ping exits 1 when no reply came back: for a bake-off that is a measurement
    # (packet_loss = 100), not a failed run; 2 and above are real errors.
    ok_exit_codes = frozenset({0, 1})

    def plan(self, params: Params, env: Any) -> Plan:
        argv = ("ping", "-n", "-c", str(params.count), "-i", f"{params.interval_s:g}",
                "-s", str(params.size_bytes), "-W", str(params.wait_s), env.server.address)
        timeout = params.count * params.interval_s + params.wait_s + 30
        return Plan((Step("client", argv, timeout_s=timeout),))

    def parse(self, output: str, params: Params | None = None) -> ParsedOutput:
        text = require_text(TOOL, output)
        stats = _STATS.search(text)
        if not stats:
            raise ParseError(TOOL, "no 'N packets transmitted, M received' statistics line "
                                   "(output truncated or not from iputils ping)")
        transmitted, received = int(stats.group(1)), int(stats.group(2))
        if transmitted == 0:
            raise ParseError(TOOL, "no packet was transmitted")
        meta: dict[str, Any] = {"transmitted": transmitted, "received": received}
        samples = [Sample("packet_loss", float(stats.group(3)), "%", meta)]
        if received == 0:
            return ParsedOutput(samples)
        rtt = _RTT.search(text)
        if not rtt:
            raise ParseError(TOOL, f"{received} replies but no 'rtt min/avg/max/mdev' line "
                                   "(output truncated?)")
        for name, value in zip(("rtt_min", "rtt_avg", "rtt_max", "rtt_mdev"), rtt.groups(),
                               strict=True):
            samples.append(Sample(name, float(value), "ms", meta))
        replies = [float(m.group(1)) for m in _REPLY.finditer(text) if not m.group("dup")]
        if replies:  # absent with -q; then there is no percentile to report
            samples.append(Sample("rtt_p99", nearest_rank(replies, 99.0), "ms",
                                  {**meta, "replies": len(replies)}))
        return ParsedOutput(samples)

    def tool_version_argv(self) -> tuple[str, ...]:
        return ("ping", "-V")


WORKLOAD = Ping()
