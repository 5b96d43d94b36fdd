"""Lines common to every `sysbench ... run` report, in both report layouts.

sysbench 1.0 ends with "General statistics: total time: 1.0003s"; sysbench 1.1 replaced
that block with "Throughput: events/s (eps): ... time elapsed: 1.0182s". Rates are
padded to a fixed width in both (`events per second:   706.27`,
`( 9330.67 per second)`), so every pattern allows padding before a number.
"""

from __future__ import annotations

import re

from bench.workloads._text import INT, NUM, PAD, find_float, find_int
from core.errors import ParseError

TOOL = "sysbench"


def version(text: str) -> str | None:
    """`1.0.20` or `1.1.0` from the banner line, None when the banner is cut off."""
    m = re.search(r"^sysbench (\d+\.\d+(?:\.\d+)?)", text, re.MULTILINE)
    return m.group(1) if m else None


def threads(text: str) -> int:
    n = find_int(TOOL, rf"^Number of threads:{PAD}({INT})\s*$", text, "thread count")
    if n < 1:
        raise ParseError(TOOL, f"thread count is {n}")
    return n


def total_time(text: str) -> float:
    """The run's wall time in seconds (1.0: `total time:`, 1.1: `time elapsed:`)."""
    pattern = rf"^\s*(?:total time|time elapsed):{PAD}({NUM})s\s*$"
    seconds = find_float(TOOL, pattern, text, "total time ('total time:' or 'time elapsed:')")
    if seconds <= 0:
        raise ParseError(TOOL, f"total time is {seconds:g} s: rates over no time are not "
                               "measurements")
    return seconds


def latency(text: str, key: str) -> float:
    """One value of the 'Latency (ms):' block (`avg`, `95th percentile`, ...)."""
    block = re.search(r"^Latency \(ms\):\s*$(.*?)(?:^\S|\Z)", text, re.MULTILINE | re.DOTALL)
    if not block:
        raise ParseError(TOOL, "no 'Latency (ms):' block (output truncated?)")
    return find_float(TOOL, rf"^\s*{re.escape(key)}:{PAD}({NUM})\s*$", block.group(1),
                      f"latency {key}")
