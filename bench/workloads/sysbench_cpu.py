"""sysbench cpu: prime-number crunching; events/s is the headline CPU throughput."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from bench.samples import ParsedOutput, Sample
from bench.workloads import _sysbench as sb
from bench.workloads._checks import checked_parse
from bench.workloads._text import NUM, PAD, find_float, require_text
from bench.workloads.base import Plan, Step, WorkloadParams

TOOL = "sysbench"


class Params(WorkloadParams):
    threads: int | None = Field(None, gt=0, le=1024,
                                description="worker threads; default = the site's vCPUs")
    time_s: int = Field(10, gt=0, le=3600, description="run time, seconds")
    # One event tests every number up to max_prime by trial division (~N^1.5 steps): 0.13 s
    # at 10^6 measured here, so ~4 s at 10^7 and ~2 min at 10^8, past the step's 60 s grace.
    max_prime: int = Field(10000, gt=2, le=10_000_000,
                           description="primes searched up to this per event")


class SysbenchCpu:
    name = "sysbench-cpu"
    tool = TOOL
    metrics: ClassVar[dict[str, str]] = {
        "events_per_second": "events/s", "latency_avg": "ms", "latency_p95": "ms",
        "total_time": "s"}
    Params = Params

    def plan(self, params: Params, env: Any) -> Plan:
        threads = params.threads or int(env.client.facts.get("vcpus", 1))
        argv = ("sysbench", "cpu", f"--threads={threads}", f"--time={params.time_s}",
                f"--cpu-max-prime={params.max_prime}", "run")
        return Plan((Step("client", argv, timeout_s=params.time_s + 60),))

    @checked_parse(TOOL)
    def parse(self, output: str, params: Params | None = None) -> ParsedOutput:
        text = require_text(TOOL, output)
        meta: dict[str, Any] = {"threads": sb.threads(text)}
        if sb.version(text):
            meta["sysbench_version"] = sb.version(text)
        eps = find_float(TOOL, rf"^\s*events per second:{PAD}({NUM})\s*$", text,
                         "events per second")
        return ParsedOutput([
            Sample("events_per_second", eps, "events/s", meta),
            Sample("latency_avg", sb.latency(text, "avg"), "ms", meta),
            Sample("latency_p95", sb.latency(text, "95th percentile"), "ms", meta),
            Sample("total_time", sb.total_time(text), "s", meta),
        ])

    def tool_version_argv(self) -> tuple[str, ...]:
        return ("sysbench", "--version")


WORKLOAD = SysbenchCpu()
