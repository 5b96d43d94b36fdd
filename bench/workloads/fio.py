"""fio: block I/O on the host's scratch directory; IOPS, bandwidth and completion latency.

The plan always passes `--group_reporting`, so fio itself merges the `numjobs` clones
into one report: IOPS and bandwidth summed, latency percentiles computed from the merged
latency histogram (exact, not an average of percentiles). Output from runs without
group reporting (several job entries) is still accepted: IOPS and bandwidth are summed
over the entries and each clat percentile is the worst (largest) entry's, a
conservative bound recorded in the samples' metadata as `clat_combined`.
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal

from pydantic import Field

from bench.samples import ParsedOutput, Sample
from bench.workloads._text import require_text
from bench.workloads.base import Plan, Step, WorkloadParams
from core.errors import ParseError, PrerequisiteError

TOOL = "fio"
MIB = 1024 * 1024
SIZE_PATTERN = r"^\d+([kKmMgGtT]i?[bB]?)?$"
PERCENTILES = {"clat_p50": 50.0, "clat_p99": 99.0}


class Params(WorkloadParams):
    rw: Literal["read", "write", "randread", "randwrite", "randrw", "rw"] = "randread"
    bs: str = Field("4k", pattern=SIZE_PATTERN, description="block size")
    size: str = Field("256M", pattern=SIZE_PATTERN, description="file size per job")
    iodepth: int = Field(16, ge=1, le=4096)
    numjobs: int = Field(1, ge=1, le=256)
    runtime_s: int = Field(30, gt=0, le=3600)
    ramp_time_s: int = Field(0, ge=0, le=600, description="warm-up excluded from results")
    ioengine: Literal["psync", "libaio", "io_uring"] = "libaio"
    direct: bool = Field(True, description="O_DIRECT: bypass the page cache")
    rwmixread: int = Field(50, ge=0, le=100, description="read share for rw/randrw")
    directory: str | None = Field(None, description="default: the host's scratch_dir fact")


def _first_json(text: str) -> tuple[dict[str, Any], list[str]]:
    """The JSON document and the lines printed before it (fio's notes and warnings)."""
    lines = text.splitlines(keepends=True)
    offset = 0
    for i, line in enumerate(lines):
        if line.startswith("{"):
            try:
                doc, _ = json.JSONDecoder().raw_decode(text, offset)
            except json.JSONDecodeError as exc:
                raise ParseError(TOOL, f"the JSON document is truncated or invalid ({exc})"
                                 ) from exc
            if not isinstance(doc, dict):
                raise ParseError(TOOL, "the JSON document is not an object")
            return doc, [ln.strip() for ln in lines[:i] if ln.strip()]
        offset += len(line)
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    raise ParseError(TOOL, f"no JSON document in the output (was --output-format=json "
                           f"given?); first line: {first[:200]!r}")


def _percentile(clat: dict[str, Any], pct: float, job: str, direction: str) -> float:
    table = clat.get("percentile")
    if not isinstance(table, dict):
        raise ParseError(TOOL, f"job {job!r} {direction}: clat_ns has no percentile table")
    for key, value in table.items():
        if abs(float(key) - pct) < 1e-9:
            return float(value)
    raise ParseError(TOOL, f"job {job!r} {direction}: no {pct:g}th clat percentile")


def _direction(jobs: list[dict[str, Any]], direction: str) -> dict[str, float] | None:
    """Aggregated numbers for one direction, or None when no job did I/O in it."""
    active = [j for j in jobs if int(j.get(direction, {}).get("io_bytes", 0)) > 0]
    if not active:
        return None
    out = {
        "iops": sum(float(j[direction]["iops"]) for j in active),
        "bandwidth": sum(float(j[direction]["bw_bytes"]) for j in active) / MIB,
    }
    for metric, pct in PERCENTILES.items():
        values = []
        for j in active:
            clat = j[direction].get("clat_ns")
            if not isinstance(clat, dict):
                raise ParseError(TOOL, f"job {j.get('jobname')!r} {direction}: no clat_ns")
            values.append(_percentile(clat, pct, str(j.get("jobname")), direction))
        out[metric] = max(values) / 1e6  # ns -> ms
    return out


class Fio:
    name = "fio"
    tool = TOOL
    Params = Params

    def plan(self, params: Params, env: Any) -> Plan:
        directory = params.directory or env.client.facts.get("scratch_dir")
        if not directory:
            raise PrerequisiteError("fio needs a directory: set the workload's `directory` "
                                    "param or give the client host a `scratch_dir` fact")
        argv: tuple[str, ...] = (
            "fio", "--name=bakeoff", f"--directory={directory}", f"--rw={params.rw}",
            f"--bs={params.bs}", f"--size={params.size}", f"--iodepth={params.iodepth}",
            f"--numjobs={params.numjobs}", f"--runtime={params.runtime_s}", "--time_based",
            f"--ioengine={params.ioengine}", f"--direct={int(params.direct)}",
            "--group_reporting", "--output-format=json")
        if params.rw in ("rw", "randrw"):
            argv += (f"--rwmixread={params.rwmixread}",)
        if params.ramp_time_s:
            argv += (f"--ramp_time={params.ramp_time_s}",)
        # laying out the files happens before the timed part and can take a while
        timeout = params.runtime_s + params.ramp_time_s + 300
        return Plan((Step("client", argv, timeout_s=timeout),), raw_suffix="json")

    def parse(self, output: str, params: Params | None = None) -> ParsedOutput:
        text = require_text(TOOL, output)
        doc, notes = _first_json(text)
        jobs = doc.get("jobs")
        if not isinstance(jobs, list) or not jobs:
            raise ParseError(TOOL, "the JSON document has no 'jobs' list")
        for job in jobs:
            code = int(job.get("error", 0) or 0)
            if code:
                raise ParseError(TOOL, f"job {job.get('jobname')!r} failed with error {code} "
                                       f"({os.strerror(code)})")
        options = jobs[0].get("job options", {})
        meta: dict[str, Any] = {
            "job_entries": len(jobs),
            "clat_combined": "fio-group-report" if len(jobs) == 1 else "max-over-jobs",
            **{k: options[k] for k in ("rw", "bs", "iodepth", "numjobs", "ioengine", "direct")
               if k in options},
        }
        if notes:
            meta["notes"] = notes
        samples: list[Sample] = []
        for direction in ("read", "write"):
            agg = _direction(jobs, direction)
            if agg is None:
                continue
            samples += [
                Sample(f"{direction}_iops", agg["iops"], "IOPS", meta),
                Sample(f"{direction}_bandwidth", agg["bandwidth"], "MiB/s", meta),
                Sample(f"{direction}_clat_p50", agg["clat_p50"], "ms", meta),
                Sample(f"{direction}_clat_p99", agg["clat_p99"], "ms", meta),
            ]
        if not samples:
            raise ParseError(TOOL, "no job did any read or write I/O")
        return ParsedOutput(samples)

    def tool_version_argv(self) -> tuple[str, ...]:
        return ("fio", "--version")


WORKLOAD = Fio()
