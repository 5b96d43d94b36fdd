"""stress-ng --stream: STREAM-like copy/scale/add/triad loops; memory bandwidth in MB/s.

stress-ng writes its log to stderr; `--stdout` moves it to stdout so the captured raw
output holds everything. Its YAML report (`--yaml`) only carries the geometric mean
of the per-instance rates, so the parser reads the per-instance log lines instead and
sums them: N stressors hammering memory together is the machine's bandwidth.

Two facts about stress-ng 0.15.06 shape the numbers:
- its "MB" is 2**20 bytes (`MB` is `1024 * 1024` in stress-ng.h), so the rates are
  converted to decimal MB/s (x 1.048576) to make the unit label true;
- a stressor computes its rate only when its loop ran at least 4.5 s of wall time
  (stress-stream.c: `if (dt >= 4.5)`); the loop starts after the stressor has filled its
  three arrays (4x the L3 cache each), and instance 0 alone says "too short to determine
  memory rate" (the others just print no rate). On a busy host filling the arrays can
  take seconds, so stress-ng is given `time_s + SETUP_ALLOWANCE_S`: the loop still gets
  about time_s of wall time, and a CPU hog beside the run no longer costs the rate.
  `time_s >= 6` is refused below that when the scenario is validated (MIN_RULE).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field, field_validator

from bench.samples import ParsedOutput, Sample
from bench.workloads._checks import checked_parse
from bench.workloads._text import NUM, PAD, integer, number, require_text
from bench.workloads.base import Plan, Step, WorkloadParams
from core.errors import ParseError

TOOL = "stress-ng"
MIN_TIME_S = 6
SETUP_ALLOWANCE_S = 4  # wall time for filling the arrays before the timed loop starts
# The one wording of the minimum (validation, parser, docs).
MIN_RULE = (f"stress-ng reports a stream memory rate only from a loop of at least 4.5 s: "
            f"use time_s >= {MIN_TIME_S}")
# stress-ng refuses an L3 size under 4 KiB ("out of range for stream-L3-size"); the largest
# L3 shipped is 1.1 GiB (AMD EPYC 9684X) and each stressor allocates 4x it, hence 4G.
L3_MIN, L3_MAX = 4 * 1024, 4 * 1024**3
MIB_TO_MB = 1.048576  # stress-ng's MB (2**20 bytes) in decimal megabytes

_RATE = re.compile(rf"stream: memory rate:{PAD}({NUM}) MB read/sec,{PAD}({NUM}) MB write/sec"
                   rf"[^\n]*\(instance{PAD}(\d+)\)")
_DISPATCH = re.compile(rf"dispatching hogs:{PAD}(\d+) stream\b")
_FAILURE = re.compile(r"^stress-ng: (error|fail):.*$|^.*\bunsuccessful run completed.*$",
                      re.MULTILINE)
# 0.15: "Using CPU cache size of 32768K"; 0.22: "using cache size of 32768K"
_CACHE = re.compile(rf"stream: (?:Using CPU|using) cache size of{PAD}(\d+)K")
# 0.15: "too short to determine memory rate"; 0.22: "too short to reliably determine ..."
_TOO_SHORT = re.compile(r"too short to (?:reliably )?determine memory rate")


class Params(WorkloadParams):
    stressors: int | None = Field(None, gt=0, le=1024,
                                  description="stream instances; default = the site's vCPUs")
    time_s: int = Field(10, le=3600,
                        description=f"seconds of stream loop; {MIN_RULE} (stress-ng gets "
                                    f"{SETUP_ALLOWANCE_S} s more to set up its arrays)")
    l3_size: str | None = Field(None, pattern=r"^\d+[bkmgBKMG]?$",
                                description="override the detected L3 size (arrays are 4x it)")

    @field_validator("time_s")
    @classmethod
    def _long_enough(cls, v: int) -> int:
        if v < MIN_TIME_S:
            raise ValueError(f"{v} s is too short: {MIN_RULE}")
        return v

    @field_validator("l3_size")
    @classmethod
    def _l3_range(cls, v: str | None) -> str | None:
        if v is not None:
            unit = v[-1].lower() if v[-1].isalpha() else "b"
            n = int(v.rstrip("bkmgBKMG")) * 1024 ** "bkmg".index(unit)
            if not L3_MIN <= n <= L3_MAX:
                raise ValueError("expected 4k to 4g (stress-ng refuses less than 4 KiB; no "
                                 "CPU has more)")
        return v


class Stream:
    name = "stream"
    tool = TOOL
    metrics: ClassVar[dict[str, str]] = {"read_bandwidth": "MB/s", "write_bandwidth": "MB/s"}
    Params = Params

    def plan(self, params: Params, env: Any) -> Plan:
        stressors = params.stressors or int(env.client.facts.get("vcpus", 1))
        argv: tuple[str, ...] = ("stress-ng", "--stream", str(stressors), "--metrics",
                                 "--timeout", f"{params.time_s + SETUP_ALLOWANCE_S}s", "--stdout")
        if params.l3_size:
            argv += ("--stream-l3-size", params.l3_size)
        return Plan((Step("client", argv, timeout_s=params.time_s + SETUP_ALLOWANCE_S + 60),))

    @checked_parse(TOOL)
    def parse(self, output: str, params: Params | None = None) -> ParsedOutput:
        text = require_text(TOOL, output)
        failure = _FAILURE.search(text)
        if failure:
            raise ParseError(TOOL, f"the run failed: {failure.group(0).strip()!r}")
        dispatched = _DISPATCH.search(text)
        if not dispatched:
            raise ParseError(TOOL, "no 'dispatching hogs: N stream' line (not a stress-ng "
                                   "--stream run, or the log went to stderr without --stdout)")
        instances = integer(TOOL, dispatched.group(1), "stream instance count")
        if instances < 1:
            raise ParseError(TOOL, "stress-ng dispatched no stream instance")
        rates = {int(m.group(3)): (number(TOOL, m.group(1), "memory read rate"),
                                   number(TOOL, m.group(2), "memory write rate"))
                 for m in _RATE.finditer(text)}
        if _TOO_SHORT.search(text) or len(rates) != instances:
            raise ParseError(TOOL, _no_rate(len(rates), instances, params,
                                            bool(_TOO_SHORT.search(text))))
        if not re.search(r"(?<!un)successful run completed", text):
            raise ParseError(TOOL, "no 'successful run completed' line (output truncated?)")
        read_mib = sum(r for r, _ in rates.values())
        write_mib = sum(w for _, w in rates.values())
        cache = _CACHE.search(text)
        meta: dict[str, Any] = {
            "instances": instances,
            "stress_ng_read_mib_per_s": round(read_mib, 2),
            "stress_ng_write_mib_per_s": round(write_mib, 2),
            "cache_size_kib": integer(TOOL, cache.group(1), "cache size") if cache else None,
        }
        return ParsedOutput([
            Sample("read_bandwidth", read_mib * MIB_TO_MB, "MB/s", meta),
            Sample("write_bandwidth", write_mib * MIB_TO_MB, "MB/s", meta),
        ])

    def tool_version_argv(self) -> tuple[str, ...]:
        return ("stress-ng", "--version")


def _no_rate(got: int, instances: int, params: Params | None, too_short: bool) -> str:
    """Why stress-ng gave no rate: a time_s below the minimum, else a loop cut short by a
    busy host (the time asked for was enough), else a truncated output."""
    what = f"{got} of {instances} stream instances reported a memory rate"
    if params is not None and params.time_s >= MIN_TIME_S:
        return (f"{what}: their loops ran under 4.5 s although {params.time_s} s (+"
                f"{SETUP_ALLOWANCE_S} s to set up) were given, so the host was too busy for "
                "this run (see the unit's host load); time_s is not the cause")
    if too_short:
        return f"{what}; stress-ng says the run was too short: {MIN_RULE}"
    return f"{what} (output truncated?), or the run was too short: {MIN_RULE}"


WORKLOAD = Stream()
