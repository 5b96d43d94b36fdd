"""sysbench memory: block copies into a shared buffer; MiB/s is the memory throughput.

The default total size is 0 (unlimited) so the run is bounded by time, not by volume:
with large blocks a fixed volume such as sysbench's own 100G default finishes in well
under a second on current machines, which measures start-up more than memory.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from bench.samples import ParsedOutput, Sample
from bench.workloads import _sysbench as sb
from bench.workloads._checks import checked_parse
from bench.workloads._text import INT, NUM, PAD, find_float, require_text
from bench.workloads.base import Plan, Step, WorkloadParams
from core.errors import ParseError

TOOL = "sysbench"
SIZE_PATTERN = r"^\d+[KMGT]?$"
_POWERS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}
# sysbench refuses a block below 8 bytes or not a power of two ("Invalid value for
# memory-block-size"); each thread allocates one block, so 1G bounds the buffer.
BLOCK_MIN, BLOCK_MAX = 8, 1024**3
# More than 1 TB/s moves in the longest run (3600 s); sysbench wraps larger totals modulo
# 2^64 without a word (20 nines ran as 7406501418544 MiB).
TOTAL_MAX = 4096 * 1024**4


def size_bytes(size: str) -> int:
    """sysbench's size strings (K, M, G, T are powers of 1024) in bytes."""
    return int(size.rstrip("KMGT")) * 1024 ** _POWERS[size[len(size.rstrip("KMGT")):]]


class Params(WorkloadParams):
    threads: int | None = Field(None, gt=0, le=1024,
                                description="worker threads; default = the site's vCPUs")
    block_size: str = Field("1K", pattern=SIZE_PATTERN, description="bytes per operation")
    total_size: str = Field("0", pattern=SIZE_PATTERN,
                            description="volume to transfer; 0 = unlimited (time-bounded)")
    operation: Literal["read", "write"] = Field("write", description="memory operation")
    access_mode: Literal["seq", "rnd"] = Field("seq", description="sequential or random access")
    time_s: int = Field(10, gt=0, le=3600, description="run time, seconds")

    @field_validator("block_size")
    @classmethod
    def _block(cls, v: str) -> str:
        n = size_bytes(v)
        if not BLOCK_MIN <= n <= BLOCK_MAX or n & (n - 1):
            raise ValueError("expected a power of two from 8 to 1G (what sysbench accepts)")
        return v

    @field_validator("total_size")
    @classmethod
    def _total(cls, v: str) -> str:
        if size_bytes(v) > TOTAL_MAX:
            raise ValueError("expected at most 4096T (0 = bounded by time_s)")
        return v


def _header(text: str, key: str) -> str | None:
    m = re.search(rf"^[ \t]*{key}:[ \t]*(\S+)", text, re.MULTILINE)
    return m.group(1) if m else None


class SysbenchMemory:
    name = "sysbench-memory"
    tool = TOOL
    metrics: ClassVar[dict[str, str]] = {"throughput": "MiB/s", "operations_per_second": "ops/s"}
    Params = Params

    def plan(self, params: Params, env: Any) -> Plan:
        threads = params.threads or int(env.client.facts.get("vcpus", 1))
        argv = ("sysbench", "memory", f"--threads={threads}", f"--time={params.time_s}",
                f"--memory-block-size={params.block_size}",
                f"--memory-total-size={params.total_size}",
                f"--memory-oper={params.operation}",
                f"--memory-access-mode={params.access_mode}", "run")
        return Plan((Step("client", argv, timeout_s=params.time_s + 60),))

    @checked_parse(TOOL)
    def parse(self, output: str, params: Params | None = None) -> ParsedOutput:
        text = require_text(TOOL, output)
        if "Running memory speed test" not in text:
            raise ParseError(TOOL, "this is not the output of `sysbench memory run`")
        meta: dict[str, Any] = {
            "threads": sb.threads(text),
            "block_size": _header(text, "block size"),
            "operation": _header(text, "operation"),
        }
        if sb.version(text):
            meta["sysbench_version"] = sb.version(text)
        # Both rates are padded to a fixed width: "( 9330.67 per second)".
        mib_per_s = find_float(TOOL, rf"MiB transferred \({PAD}({NUM}) MiB/sec\)", text,
                               "'MiB transferred (X MiB/sec)' line")
        ops_per_s = find_float(TOOL, rf"Total operations:{PAD}{INT}{PAD}\({PAD}({NUM}) "
                                     r"per second\)", text, "'Total operations' line")
        meta["total_time_s"] = sb.total_time(text)
        return ParsedOutput([
            Sample("throughput", mib_per_s, "MiB/s", meta),
            Sample("operations_per_second", ops_per_s, "ops/s", meta),
        ])

    def tool_version_argv(self) -> tuple[str, ...]:
        return ("sysbench", "--version")


WORKLOAD = SysbenchMemory()
