"""cold-start: first-request latency of an idle function, warm latency, and a burst.

Runs against a function site (env.notes["function"], today the local function site,
docs/serverless.md). The probe (bench.serverless.probe) runs on the load host: per cold
sample it forces a cold start (waits beyond the site's idle timeout, or asks the site to
recycle its idle instances; `force` says which and the raw output records it), times the
first request and `warm` more requests to the now-warm instance; then a burst of N
concurrent requests to a cold function. The raw output is the probe's JSON (every
request); this parser folds it into HDR histograms and p50/p90/p99. The platform's
reported init (spawn to ready on the local site) is kept apart from client latency.
The function measured is `function` (the realistic checkout by default); `baseline`
(hello by default) is measured the same way and reported under `baseline_*`.
"""

from __future__ import annotations

import json
import sys
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from bench.hdr import encode, new_histogram, record_us
from bench.poc.launcher import host_python
from bench.samples import Histogram, ParsedOutput, Sample
from bench.serverless.downstream_check import check_downstream
from bench.workloads import _json as J
from bench.workloads._checks import checked_parse
from bench.workloads.base import RunContext, WorkloadParams
from bench.workloads.http_load import loadgen_host
from core.environment import Environment
from core.errors import BakeoffError, ParseError

TOOL = "bench.serverless.probe"  # bakeoff's own client, run as python -m
PCTS = {"p50": 50.0, "p90": 90.0, "p99": 99.0}
FUNCTIONS = ("checkout", "hello")


class Params(WorkloadParams):
    function: Literal["checkout", "hello"] = Field(
        "checkout", description="the function measured; checkout is the realistic one")
    baseline: Literal["checkout", "hello"] | None = Field(
        "hello", description="measured too, reported as baseline_*; null: none")
    samples: int = Field(20, ge=1, le=1000, description="cold samples per function")
    warm: int = Field(3, ge=1, le=100, description="warm requests after each cold one")
    burst: int = Field(4, ge=0, le=64, description="concurrent requests to a cold function; "
                       "0: no burst")
    force: Literal["idle", "recycle", "version"] = Field(
        "idle", description="idle: wait beyond the site's idle timeout (genuine); recycle: "
        "ask the site to stop its idle instances (faster); version: publish a new "
        "configuration version (cloud function sites, bench/serverless/cold_force.py)")
    timeout_s: float = Field(60.0, gt=0, le=600, description="per request")

    @model_validator(mode="after")
    def _two_functions(self) -> Params:
        if self.baseline == self.function:
            raise ValueError("baseline must differ from function (or be null)")
        return self


def _hist(values: list[float]) -> tuple[Any, str]:
    hist = new_histogram()
    for v in values:
        record_us(hist, v * 1000.0)
    return hist, encode(hist)


class ColdStart:
    name = "cold-start"
    tool = TOOL
    tool_host = "loadgen"
    python_tool = True  # the runner asks the load host's interpreter for its version
    metrics: ClassVar[dict[str, str]] = {
        **{f"{prefix}{kind}_{p}": "ms" for prefix in ("", "baseline_")
           for kind in ("cold_start", "warm", "init") for p in PCTS},
        **{f"{prefix}{name}": "count" for prefix in ("", "baseline_")
           for name in ("cold_samples", "not_cold", "warm_samples", "burst_requests",
                        "burst_cold_starts", "failures", "throttles")},
        "burst_p50": "ms", "burst_p99": "ms"}
    Params = Params

    def plan(self, params: Params, env: Any):
        raise NotImplementedError("cold-start drives its own client: use run()")

    @staticmethod
    def host_modules(params: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        return {}  # the probe uses the standard library only

    def run(self, params: Params, env: Environment, ctx: RunContext | None = None) -> str:
        site = env.notes.get("function")
        if not isinstance(site, dict) or "url" not in site:
            raise BakeoffError(f"cold-start on site {env.site!r} needs a function site: add "
                               "`serverless: {}` (with `database: {}`) to a local site")
        if (params.force == "version") != bool(site.get("cold_force")):
            raise BakeoffError(f"cold-start on site {env.site!r}: force {params.force!r} does "
                               "not fit this site (version: cloud function sites; idle or "
                               "recycle: local function sites)")
        if site.get("kind") == "cloud-function":  # its downstream API runs on the server VM
            check_downstream(env.hosts["server"].executor, f"{env.site}'s server VM")
        functions = [params.function] + ([params.baseline] if params.baseline else [])
        idle_s = float(site.get("idle_s") or 0.0)
        argv = ["-m", "bench.serverless.probe", "--url", site["url"],
                "--samples", str(params.samples), "--warm", str(params.warm),
                "--burst", str(params.burst), "--force", params.force,
                "--idle-s", f"{idle_s:g}", "--timeout-s", f"{params.timeout_s:g}"]
        for f in functions:
            argv += ["--function", f]
        per_sample = idle_s * 1.2 + 0.3 if params.force == "idle" else 0.0
        if params.force == "version":  # a new configuration per sample: up to minutes
            per_sample = 300.0
        budget = (len(functions) * (params.samples + 1) * (per_sample + params.timeout_s)
                  + 60)
        if params.force == "version":
            return _run_on_controller([*argv, "--cold-force", json.dumps(site["cold_force"])],
                                      budget)
        host = loadgen_host(env)
        python, py_env = host_python(host)
        res = host.executor.run([python, *argv], timeout=budget, env=py_env)
        if not res.ok:
            raise BakeoffError(f"cold-start: the probe failed (rc={res.rc}"
                               f"{', timed out' if res.timed_out else ''}): "
                               f"{(res.stderr or res.stdout).strip()[-800:]}")
        return res.stdout

    @checked_parse(TOOL)
    def parse(self, output: str, params: Params | None = None) -> ParsedOutput:
        doc = J.loads(TOOL, output, "cold-start raw output")
        if not isinstance(doc, dict) or doc.get("workload") != "cold-start":
            raise ParseError(TOOL, "raw output is not a cold-start JSON document")
        force = J.text(TOOL, doc, "force")
        if force not in ("idle", "recycle", "version"):
            raise ParseError(TOOL, f"'force' must be idle, recycle or version, got "
                             f"{force[:40]!r}")
        runs = J.array(TOOL, doc, "functions")
        if not runs:
            raise ParseError(TOOL, "'functions' is empty")
        samples: list[Sample] = []
        histograms: list[Histogram] = []
        for i, run in enumerate(runs):
            prefix = "" if i == 0 else "baseline_"
            if i > 1 or not isinstance(run, dict):
                raise ParseError(TOOL, f"functions[{i}]: expected at most two objects")
            s, h = _fold(run, prefix, force, J.num(TOOL, doc, "idle_s"))
            samples += s
            histograms += h
        valid = any(s.metric == "cold_start_p50" for s in samples)
        return ParsedOutput(samples, histograms, valid,
                            "" if valid else "no successful cold request")

    def tool_version_argv(self) -> tuple[str, ...]:
        return (sys.executable, "-m", TOOL, "--version")


def _run_on_controller(argv: list[str], budget: float) -> str:
    """Cloud function sites: the probe runs where the site was provisioned from, which holds
    the provider credentials a new configuration version needs (the function URL is
    public); its latency includes the controller's path to the region (docs/serverless.md)."""
    import subprocess

    try:
        res = subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                             timeout=budget, check=False)
    except subprocess.TimeoutExpired:
        raise BakeoffError(f"cold-start: the probe did not finish within {budget:.0f} s") \
            from None
    if res.returncode != 0:
        raise BakeoffError(f"cold-start: the probe failed (rc={res.returncode}): "
                           f"{(res.stderr or res.stdout).strip()[-800:]}")
    return res.stdout


def _rows(run: dict[str, Any], key: str) -> list[dict[str, Any]]:
    rows = J.array(TOOL, run, key)
    for j, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ParseError(TOOL, f"{key}[{j}] is not an object")
        J.num(TOOL, row, "latency_ms")
        J.count(TOOL, row, "status")
        cold = row.get("cold")
        if cold is not None and not isinstance(cold, bool):
            raise ParseError(TOOL, f"{key}[{j}].cold must be true/false")
        if "init_ms" in row:
            J.num(TOOL, row, "init_ms")
    return rows


def _ok(row: dict[str, Any]) -> bool:
    return 200 <= row["status"] < 300


def _fold(run: dict[str, Any], prefix: str, force: str,
          idle_s: float) -> tuple[list[Sample], list[Histogram]]:
    function = J.text(TOOL, run, "function")
    if function not in FUNCTIONS:
        raise ParseError(TOOL, f"unknown function {function[:40]!r}")
    cold_rows, warm_rows, burst_rows = (_rows(run, k) for k in ("cold", "warm", "burst"))
    meta = {"function": function, "force": force, "idle_s": idle_s}
    forced = run.get("forced")
    if isinstance(forced, list) and forced and isinstance(forced[0], dict):
        meta["force_method"] = str(forced[0].get("method", ""))[:60]  # e.g. lambda-update-...
    everything = cold_rows + warm_rows + burst_rows
    throttles = sum(r["status"] == 429 for r in everything)
    failures = sum(not _ok(r) and r["status"] != 429 for r in everything)
    # a forced cold start the platform served warm is not a cold sample (and is counted)
    cold_ok = [r for r in cold_rows if _ok(r) and r.get("cold", True)]
    not_cold = sum(1 for r in cold_rows if _ok(r) and r.get("cold") is False)
    warm_ok = [r for r in warm_rows if _ok(r) and not r.get("cold", False)]
    burst_ok = [r for r in burst_rows if _ok(r)]
    out = [Sample(f"{prefix}cold_samples", len(cold_ok), "count", meta),
           Sample(f"{prefix}not_cold", not_cold, "count", meta),
           Sample(f"{prefix}warm_samples", len(warm_ok), "count", meta),
           Sample(f"{prefix}burst_requests", len(burst_rows), "count", meta),
           Sample(f"{prefix}burst_cold_starts", sum(r.get("cold") is True for r in burst_ok),
                  "count", meta),
           Sample(f"{prefix}failures", failures, "count", meta),
           Sample(f"{prefix}throttles", throttles, "count", meta)]
    hists: list[Histogram] = []
    series = {"cold_start": [r["latency_ms"] for r in cold_ok],
              "warm": [r["latency_ms"] for r in warm_ok],
              "init": [r["init_ms"] for r in cold_ok if "init_ms" in r]}
    if not prefix:
        series["burst"] = [r["latency_ms"] for r in burst_ok]
    for kind, values in series.items():
        if not values:
            continue
        hist, encoded = _hist(values)
        hists.append(Histogram(f"{kind}:{function}", encoded, "us",
                               {"valid": True, "function": function, "force": force}))
        pcts = ("p50", "p99") if kind == "burst" else tuple(PCTS)
        out += [Sample(f"{prefix}{kind}_{p}", hist.get_value_at_percentile(PCTS[p]) / 1000.0,
                       "ms", {**meta, "n": len(values)}) for p in pcts]
    return out, hists


WORKLOAD = ColdStart()
