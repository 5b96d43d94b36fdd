"""fio: block I/O on the host's scratch directory; IOPS, bandwidth and completion latency.

The plan always passes `--group_reporting`, so fio itself merges the `numjobs` clones
into one report: IOPS and bandwidth summed, latency percentiles computed from the merged
latency histogram (exact, not an average of percentiles). Output from runs without
group reporting is still accepted: entries of one job (same name and options, the
`numjobs` clones) have IOPS and bandwidth summed and each clat percentile the worst
(largest) entry's, a conservative bound recorded as `clat_combined`; entries of
different jobs (a job file's stonewalled sequence) each yield their own samples, with
the job's name in the metadata (`job`), because their sum describes no job.

Units follow the document's `fio version`: bandwidth is `bw_bytes` (B/s) where fio
prints it (3.2 and later), else `bw`, which every fio prints in KiB/s; latency is
`clat_ns` (ns) from fio-2.99 on, and `clat` in microseconds before (fio 2.x). Tested
on captured output of fio 2.21, 3.1 and 3.33 (tests/golden/fio/README.md).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import PurePosixPath
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from bench.samples import ParsedOutput, Sample
from bench.workloads import _json as J
from bench.workloads._checks import checked_parse
from bench.workloads._fio_checks import (
    check_bandwidth,
    check_block_size,
    check_iops,
    check_job,
    check_latency,
)
from bench.workloads._text import require_text
from bench.workloads.base import DiskNeed, Plan, Step, WorkloadParams
from core.errors import ParseError, PrerequisiteError

TOOL = "fio"
MIB = 1024 * 1024
SIZE_PATTERN = r"^\d+([kKmMgGtT]i?[bB]?)?$"
PERCENTILES = {"clat_p50": 50.0, "clat_p99": 99.0}
MAX_NOTES = 20  # lines printed before the JSON kept in metadata (each cut to 300 chars)
# One job's file: at most the largest single cloud volume (64 TiB: EBS io2/gp3, Azure
# Ultra/Premium v2, GCP Hyperdisk); the free space of the real scratch area is checked again
# before the unit runs (DiskNeed). fio itself keeps sizes in 64 bits and wraps beyond.
MAX_SIZE = 64 * 1024**4
NS_SINCE = (2, 99)  # fio-2.99 (3.0-rc) reports latencies in ns (clat_ns); before: us (clat)


def _strerror(code: int) -> str:
    try:
        return os.strerror(code)
    except (ValueError, OverflowError):
        return "unknown error"


_UNITS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}


def size_bytes(size: str) -> int:
    """fio's size strings in bytes (fio's default kb_base=1024: k, m, g are powers of 2)."""
    m = re.fullmatch(r"(\d+)([kKmMgGtT]?)(i?[bB]?)", size)
    if not m:
        raise ValueError(f"not a fio size: {size!r}")
    return int(m.group(1)) * 1024 ** _UNITS[m.group(2).lower()]


def _confined(directory: str) -> str:
    """A relative path inside the scratch area: no absolute path, no `..`."""
    p = PurePosixPath(directory)
    # fio reads ':' as a list of directories ("sub:/etc" would be two of them)
    if p.is_absolute() or ".." in p.parts or not p.parts or ":" in directory:
        raise ValueError(f"{directory!r} must be a relative sub-directory of the site's "
                         "scratch area (no leading '/', no '..', no ':'): fio writes and "
                         "deletes files there")
    return str(p)


class Params(WorkloadParams):
    rw: Literal["read", "write", "randread", "randwrite", "randrw", "rw"] = Field(
        "randread", description="I/O pattern (fio --rw)")
    bs: str = Field("4k", pattern=SIZE_PATTERN, description="block size")
    size: str = Field("256M", pattern=SIZE_PATTERN, description="file size per job")
    iodepth: int = Field(16, ge=1, le=4096, description="I/Os kept in flight per job")
    numjobs: int = Field(1, ge=1, le=256, description="parallel jobs (results are summed)")
    runtime_s: int = Field(30, gt=0, le=3600, description="measured run time, seconds")
    ramp_time_s: int = Field(0, ge=0, le=600, description="warm-up excluded from results")
    ioengine: Literal["psync", "libaio", "io_uring"] = Field(
        "libaio", description="fio I/O engine")
    direct: bool = Field(True, description="O_DIRECT: bypass the page cache")
    rwmixread: int = Field(50, ge=0, le=100, description="read share for rw/randrw")
    directory: str | None = Field(None, description="sub-directory of the host's scratch "
                                  "area (default: the scratch area itself)")

    @field_validator("directory")
    @classmethod
    def _in_scratch(cls, v: str | None) -> str | None:
        return None if v is None else _confined(v)

    @field_validator("bs", "size")
    @classmethod
    def _physical(cls, v: str) -> str:
        n = size_bytes(v)
        if n <= 0:
            raise ValueError("expected a size greater than 0")
        if n > MAX_SIZE:
            raise ValueError("expected at most 64T (the largest single cloud volume)")
        return v

    @model_validator(mode="after")
    def _block_fits(self) -> Params:
        if size_bytes(self.bs) > size_bytes(self.size):
            raise ValueError(f"bs {self.bs!r} is larger than size {self.size!r}: expected a block "
                             "size no larger than the file each job reads or writes")
        return self


def _first_json(text: str) -> tuple[dict[str, Any], list[str]]:
    """The JSON document and the lines printed before it (fio's notes and warnings)."""
    lines = text.splitlines(keepends=True)
    offset = 0
    for i, line in enumerate(lines):
        if line.startswith("{"):
            doc = J.first_document(TOOL, text, offset)
            if not isinstance(doc, dict):
                raise ParseError(TOOL, "the JSON document is not an object")
            notes = [ln.strip()[:300] for ln in lines[:i] if ln.strip()]
            return doc, notes[:MAX_NOTES]
        offset += len(line)
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    raise ParseError(TOOL, f"no JSON document in the output (was --output-format=json "
                           f"given?); first line: {first[:200]!r}")


def fio_version(doc: dict[str, Any]) -> tuple[int, int] | None:
    """(major, minor) from the document's `fio version` ("fio-3.33", "fio-2.21-12-gabc")."""
    m = re.match(r"fio-(\d+)\.(\d+)", J.text(TOOL, doc, "fio version", ""))
    return (int(m.group(1)), int(m.group(2))) if m else None


def _clat(stats: dict[str, Any], version: tuple[int, int] | None, where: str
          ) -> tuple[dict[str, Any], float]:
    """The completion-latency object and its unit's factor to milliseconds.

    fio 2.99 (the 3.0 pre-release) moved latencies from microseconds (`clat`) to
    nanoseconds (`clat_ns`). A `clat_ns` object is always nanoseconds; a bare `clat`
    object is microseconds only from a fio older than 2.99 (or one that does not say).
    """
    if "clat_ns" in stats:
        return J.obj(TOOL, stats, "clat_ns"), 1e-6
    if "clat" in stats:
        if version is not None and version >= NS_SINCE:
            raise ParseError(TOOL, f"{where}: fio-{version[0]}.{version[1]} reports 'clat' "
                                   "without 'clat_ns' (unknown latency unit)")
        return J.obj(TOOL, stats, "clat"), 1e-3
    raise ParseError(TOOL, f"{where}: no clat_ns (fio 3) or clat (fio 2) latency object")


def _percentile(clat: dict[str, Any], pct: float, where: str) -> float:
    table = J.obj(TOOL, clat, "percentile", None)
    if table is None:
        raise ParseError(TOOL, f"{where}: the completion latency has no percentile table")
    for key in table:
        try:
            at = float(key)
        except ValueError:
            raise ParseError(TOOL, f"{where}: percentile key {key[:40]!r} is not a number"
                             ) from None
        if abs(at - pct) < 1e-9:
            return J.num(TOOL, table, (key,))
    raise ParseError(TOOL, f"{where}: no {pct:g}th clat percentile")


def _bandwidth_mib(stats: dict[str, Any], where: str) -> float:
    """MiB/s: `bw_bytes` (B/s, fio >= 3.2) if present, else `bw` (KiB/s in every fio)."""
    if "bw_bytes" in stats:
        return J.num(TOOL, stats, "bw_bytes") / MIB
    if "bw" in stats:
        return J.num(TOOL, stats, "bw") / 1024
    raise ParseError(TOOL, f"{where}: neither bw_bytes nor bw")


def _job_groups(jobs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Job entries by job: clones of one job (same name and options, as `numjobs` makes
    without group reporting) are aggregated; different jobs, such as the stonewalled
    sequence of PerfKit Benchmarker's fio.job, each get their own samples."""
    groups: dict[str, list[dict[str, Any]]] = {}
    keys: dict[str, str] = {}
    for job in jobs:
        name = str(job.get("jobname", ""))[:80] or "job"
        options = json.dumps(job.get("job options", {}), sort_keys=True, default=str)
        label = name
        while label in keys and keys[label] != options:
            label += "'"  # same name, other options: still another job
        keys[label] = options
        groups.setdefault(label, []).append(job)
    return groups


def _meta(group: list[dict[str, Any]], version: tuple[int, int] | None,
          notes: list[str]) -> dict[str, Any]:
    options = J.obj(TOOL, group[0], "job options", {})
    meta: dict[str, Any] = {
        "job_entries": len(group),
        "clat_combined": "fio-group-report" if len(group) == 1 else "max-over-jobs",
        **{k: options[k] for k in ("rw", "bs", "iodepth", "numjobs", "ioengine", "direct")
           if isinstance(options.get(k), str)},
    }
    if version:
        meta["fio_version"] = f"{version[0]}.{version[1]}"
    if notes:
        meta["notes"] = notes
    return meta


def _samples(group: list[dict[str, Any]], version: tuple[int, int] | None,
             meta: dict[str, Any]) -> list[Sample]:
    samples: list[Sample] = []
    for direction in ("read", "write"):
        agg = _direction(group, direction, version)
        if agg is None:
            continue
        samples += [
            Sample(f"{direction}_iops", agg["iops"], "IOPS", meta),
            Sample(f"{direction}_bandwidth", agg["bandwidth"], "MiB/s", meta),
            Sample(f"{direction}_clat_p50", agg["clat_p50"], "ms", meta),
            Sample(f"{direction}_clat_p99", agg["clat_p99"], "ms", meta),
        ]
    return samples


def _direction(jobs: list[dict[str, Any]], direction: str, version: tuple[int, int] | None
               ) -> dict[str, float] | None:
    """Aggregated numbers for one direction, or None when no job did I/O in it."""
    active = [j for j in jobs if J.count(TOOL, j, f"{direction}.io_bytes", 0) > 0]
    if not active:
        return None
    out = {"iops": 0.0, "bandwidth": 0.0}
    worst = dict.fromkeys(PERCENTILES, 0.0)
    for j in active:
        where = f"job {str(j.get('jobname'))[:60]!r} {direction}"
        stats = J.obj(TOOL, j, direction)
        iops = J.num(TOOL, stats, "iops")
        check_iops(stats, iops, where)
        check_bandwidth(stats, version, where)
        check_block_size(stats, j.get("job options"), iops, where)
        out["iops"] += iops
        out["bandwidth"] += _bandwidth_mib(stats, where)
        clat, to_ms = _clat(stats, version, where)
        check_latency(stats, clat, to_ms == 1e-6, where, j.get("job options"))
        for metric, pct in PERCENTILES.items():
            worst[metric] = max(worst[metric], _percentile(clat, pct, where) * to_ms)
    return {**out, **worst}


class Fio:
    name = "fio"
    tool = TOOL
    measures_disk = True  # the manifest records the disk of the client's scratch_dir
    metrics: ClassVar[dict[str, str]] = {
        f"{d}_{m}": u for d in ("read", "write")
        for m, u in (("iops", "IOPS"), ("bandwidth", "MiB/s"), ("clat_p50", "ms"),
                     ("clat_p99", "ms"))}
    Params = Params

    def plan(self, params: Params, env: Any) -> Plan:
        scratch = env.client.facts.get("scratch_dir")
        if not scratch:
            raise PrerequisiteError("fio needs the client host's scratch area (a "
                                    "`scratch_dir` fact): it writes only there")
        directory = str(PurePosixPath(scratch) / params.directory) if params.directory \
            else str(scratch)
        argv: tuple[str, ...] = (
            "fio", "--name=bakeoff", f"--directory={directory}", f"--rw={params.rw}",
            f"--bs={params.bs}", f"--size={params.size}", f"--iodepth={params.iodepth}",
            f"--numjobs={params.numjobs}", f"--runtime={params.runtime_s}", "--time_based",
            f"--ioengine={params.ioengine}", f"--direct={int(params.direct)}",
            "--unlink=1",  # fio deletes its data files when the job ends
            "--group_reporting", "--output-format=json")
        if params.rw in ("rw", "randrw"):
            argv += (f"--rwmixread={params.rwmixread}",)
        if params.ramp_time_s:
            argv += (f"--ramp_time={params.ramp_time_s}",)
        # laying out the files happens before the timed part and can take a while
        timeout = params.runtime_s + params.ramp_time_s + 300
        need = DiskNeed("client", directory, size_bytes(params.size) * params.numjobs,
                        f"fio: size {params.size} x numjobs {params.numjobs}")
        return Plan((Step("client", argv, timeout_s=timeout),), raw_suffix="json",
                    disk=(need,))

    @checked_parse(TOOL)
    def parse(self, output: str, params: Params | None = None) -> ParsedOutput:
        text = require_text(TOOL, output)
        doc, notes = _first_json(text)
        jobs = J.array(TOOL, doc, "jobs")
        if not jobs:
            raise ParseError(TOOL, "the JSON document has an empty 'jobs' list")
        if not all(isinstance(job, dict) for job in jobs):
            raise ParseError(TOOL, "an entry of 'jobs' is not an object")
        for job in jobs:
            code = J.count(TOOL, job, "error", 0)
            if code:
                raise ParseError(TOOL, f"job {str(job.get('jobname'))[:60]!r} failed with "
                                       f"error {code} ({_strerror(code)})")
            check_job(job, f"job {str(job.get('jobname'))[:60]!r}")
        version = fio_version(doc)
        groups = _job_groups(jobs)
        samples: list[Sample] = []
        for name, group in groups.items():
            meta = _meta(group, version, notes)
            if len(groups) > 1:  # different jobs stay apart: a sum would describe none
                meta["job"] = name
            samples += _samples(group, version, meta)
        if not samples:
            raise ParseError(TOOL, "no job did any read or write I/O")
        return ParsedOutput(samples)

    def tool_version_argv(self) -> tuple[str, ...]:
        return ("fio", "--version")


WORKLOAD = Fio()
