"""ping: ICMP round-trip time from the client host to the server host, and loss.

The plan keeps ping's per-reply lines (no `-q`) so the raw output also yields an RTT
99th percentile; the summary line gives min/avg/max/mdev. Both iputils and busybox ping
are understood; busybox prints no mdev, so that metric is omitted for it (never 0).
Total loss is a real measurement (packet_loss = 100, no RTT metrics), not a parse error.
"""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar

from pydantic import Field

from bench.samples import ParsedOutput, Sample
from bench.workloads._checks import checked_parse
from bench.workloads._ping_checks import check_loss, check_order, check_replies, check_spread
from bench.workloads._text import INT, NUM, PAD, integer, number, require_text
from bench.workloads.base import Plan, Step, WorkloadParams
from core.errors import ParseError

TOOL = "ping"

# iputils: "5 packets transmitted, 5 received, 0% packet loss, time 224ms"
# busybox: "5 packets transmitted, 5 packets received, 0% packet loss"
_STATS = re.compile(rf"^{PAD}({INT}) packets transmitted,{PAD}({INT}) (?:packets )?received,[^\n]*?"
                    rf"({NUM})% packet loss", re.MULTILINE)
# iputils: "rtt min/avg/max/mdev = a/b/c/d ms"; busybox: "round-trip min/avg/max = a/b/c ms"
_RTT = re.compile(rf"^(?:rtt|round-trip) min/avg/max(?:/(?:mdev|stddev))? ={PAD}({NUM})/({NUM})/"
                  rf"({NUM})(?:/({NUM}))? ms", re.MULTILINE)
# iputils: "icmp_seq=1 ttl=64 time=0.030 ms"; busybox: "seq=0 ttl=64 time=0.072 ms"
_REPLY = re.compile(rf"^{INT} bytes from [^\n]*? time=({NUM}) ms(?P<dup> \(DUP!\))?",
                    re.MULTILINE)


class Params(WorkloadParams):
    count: int = Field(100, ge=1, le=100_000, description="echo requests sent (-c)")
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
    metrics: ClassVar[dict[str, str]] = {
        "packet_loss": "%", "rtt_min": "ms", "rtt_avg": "ms", "rtt_max": "ms", "rtt_mdev": "ms",
        "rtt_p99": "ms"}
    Params = Params
    # iputils ping exits 1 when no reply came back: for a bake-off that is a measurement
    # (packet_loss = 100), not a failed run; 2 and above are real errors.
    ok_exit_codes = frozenset({0, 1})

    def plan(self, params: Params, env: Any) -> Plan:
        argv = ("ping", "-n", "-c", str(params.count), "-i", f"{params.interval_s:g}",
                "-s", str(params.size_bytes), "-W", str(params.wait_s), env.server.address)
        timeout = params.count * params.interval_s + params.wait_s + 30
        return Plan((Step("client", argv, timeout_s=timeout),))

    @checked_parse(TOOL)
    def parse(self, output: str, params: Params | None = None) -> ParsedOutput:
        text = require_text(TOOL, output)
        stats = _STATS.search(text)
        if not stats:
            raise ParseError(TOOL, "no 'N packets transmitted, M received' statistics line "
                                   "(output truncated or not from iputils/busybox ping)")
        transmitted = integer(TOOL, stats.group(1), "packets transmitted")
        received = integer(TOOL, stats.group(2), "packets received")
        if transmitted == 0:
            raise ParseError(TOOL, "no packet was transmitted")
        meta: dict[str, Any] = {"transmitted": transmitted, "received": received}
        loss = number(TOOL, stats.group(3), "packet loss")
        check_loss(transmitted, received, loss, params.count if params else None)
        samples = [Sample("packet_loss", loss, "%", meta)]
        if received == 0:
            return ParsedOutput(samples)
        rtt = _RTT.search(text)
        if not rtt:
            raise ParseError(TOOL, f"{received} replies but no 'rtt min/avg/max/mdev' line (or "
                                   "busybox 'round-trip min/avg/max') (output truncated?)")
        names = ("rtt_min", "rtt_avg", "rtt_max", "rtt_mdev")
        rtts = {name: number(TOOL, value, name) for name, value in
                zip(names, rtt.groups(), strict=True) if value is not None}
        check_order(rtts)
        if "rtt_mdev" not in rtts:
            meta["rtt_mdev"] = "not printed by this ping (busybox); metric omitted"
        samples += [Sample(name, value, "ms", meta) for name, value in rtts.items()]
        replies = [number(TOOL, m.group(1), "reply time") for m in _REPLY.finditer(text)
                   if not m.group("dup")]
        check_spread(rtts)
        check_replies(replies, received, rtts)
        if replies:  # absent with -q; then there is no percentile to report
            samples.append(Sample("rtt_p99", nearest_rank(replies, 99.0), "ms",
                                  {**meta, "replies": len(replies)}))
        return ParsedOutput(samples)

    def tool_version_argv(self) -> tuple[str, ...]:
        return ("ping", "-V")


WORKLOAD = Ping()
