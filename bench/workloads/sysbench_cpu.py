"""sysbench cpu: prime-number crunching; events/s is the headline CPU throughput."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bench.samples import ParsedOutput, Sample
from bench.workloads._text import find_float, require_text
from bench.workloads.base import Plan, Step, WorkloadParams

TOOL = "sysbench"


class Params(WorkloadParams):
    threads: int | None = Field(None, gt=0, le=1024,
                                description="worker threads; default = the site's vCPUs")
    time_s: int = Field(10, gt=0, le=3600)
    max_prime: int = Field(10000, gt=2)


class SysbenchCpu:
    name = "sysbench-cpu"
    tool = TOOL
    Params = Params

    def plan(self, params: Params, env: Any) -> Plan:
        threads = params.threads or int(env.client.facts.get("vcpus", 1))
        argv = ("sysbench", "cpu", f"--threads={threads}", f"--time={params.time_s}",
                f"--cpu-max-prime={params.max_prime}", "run")
        return Plan((Step("client", argv, timeout_s=params.time_s + 60),))

    def parse(self, output: str, params: Params | None = None) -> ParsedOutput:
        text = require_text(TOOL, output)
        meta = {"threads": int(find_float(TOOL, r"Number of threads:\s*(\d+)", text,
                                          "thread count"))}
        return ParsedOutput([
            Sample("events_per_second",
                   find_float(TOOL, r"events per second:\s*([\d.]+)", text, "events per second"),
                   "events/s", meta),
            Sample("latency_avg", find_float(TOOL, r"avg:\s*([\d.]+)", text, "average latency"),
                   "ms", meta),
            Sample("latency_p95",
                   find_float(TOOL, r"95th percentile:\s*([\d.]+)", text, "95th percentile"),
                   "ms", meta),
            Sample("total_time", find_float(TOOL, r"total time:\s*([\d.]+)s", text, "total time"),
                   "s", meta),
        ])

    def tool_version_argv(self) -> tuple[str, ...]:
        return ("sysbench", "--version")


WORKLOAD = SysbenchCpu()
