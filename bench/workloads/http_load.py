"""http-load: Locust (headless, FastHttpUser) against the PoC service or the user's own.

run(): start the PoC checkout service on the server host (unless `target_url` is given),
wait for /healthz from the load-generator host, scrape /metrics, run Locust with the HDR
plugin on the load-generator hosts (every core of each by default; with several load
hosts, distributed: master on the first, workers on all), scrape /metrics again, stop
the service. The raw output is one JSON document (see docs/load.md); `parse` turns it
into per-endpoint samples and exact HDR histograms, and marks the run invalid when the
load generator saturated (see bench.workloads._locust_parse).
"""

from __future__ import annotations

import json
import sys
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from bench.poc import LOCUSTFILE
from bench.poc.launcher import PocService, http_get
from bench.samples import ParsedOutput
from bench.workloads._checks import checked_parse
from bench.workloads._load_shapes import (
    RampShape,
    RateStepsShape,
    Shape,
    ShapeStep,
    SpikeShape,
    locust_steps,
    peak_users,
    shape_seconds,
)
from bench.workloads._locust_parse import METRICS, parse_document
from bench.workloads._locust_run import LocustRun, check_locustfile
from bench.workloads.base import RunContext, WorkloadParams
from core.environment import Environment, Host
from core.errors import BakeoffError

TOOL = "locust"


__all__ = ["HttpLoad", "Params", "RampShape", "RateStepsShape", "ShapeStep", "SpikeShape"]


class Params(WorkloadParams):
    users: int = Field(10, gt=0, le=100_000, description="concurrent simulated users")
    spawn_rate: float = Field(10.0, gt=0, le=100_000, description="users started per second")
    duration_s: int = Field(10, gt=0, le=3600, description="run time (closed/constant-rate)")
    processes: int | None = Field(None, gt=0, le=256,
                                  description="Locust processes per load host; default = its cores")
    locustfile: str | None = Field(None, description="your own locustfile (default: checkout)")
    target_url: str | None = Field(None, description="your own service; no PoC is started")
    mode: Literal["closed", "constant-rate"] = Field(
        "closed", description="closed: users wait for replies; constant-rate: rate_rps arrivals")
    rate_rps: float | None = Field(None, gt=0, le=1_000_000,
                                   description="constant-rate: intended sends/s")
    late_threshold_ms: float = Field(5.0, gt=0, description="a send this late counts as late")
    shape: Shape | None = Field(
        None, description="steps [{users, spawn_rate, duration_s}], or {kind: ramp | spike} "
        "(closed model), or {kind: rate-steps} (constant-rate)")
    interval_s: int = Field(1, ge=1, le=60, description="per-interval histograms, seconds")
    warmup_s: int = Field(0, ge=0, le=3600,
                          description="first seconds left out of the unit's statistics")
    max_saturated_pct: float = Field(
        10.0, ge=0, le=100, description="invalid when more intervals than this % had a "
        "saturated load generator (those intervals are left out either way)")
    endpoints: dict[str, str] = Field(default_factory=dict,
                                      description="rename 'METHOD name' endpoints in results")
    service_workers: int | None = Field(None, gt=0, le=256,
                                        description="uvicorn workers; default = server vCPUs")
    metrics_url: str | None = Field(None, description="Prometheus /metrics of your own service")

    @field_validator("locustfile")
    @classmethod
    def _locustfile_usable(cls, v: str | None) -> str | None:
        """Checked when the scenario is validated: exists, readable, valid Python."""
        if v is not None:
            try:
                check_locustfile(v)
            except BakeoffError as exc:
                raise ValueError(str(exc).removeprefix("http-load: ")) from None
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Params:
        if self.mode == "constant-rate" and self.rate_rps is None:
            raise ValueError("mode 'constant-rate' needs rate_rps (intended requests per second)")
        if self.mode == "closed" and self.rate_rps is not None:
            raise ValueError("rate_rps only applies to mode 'constant-rate'")
        if self.target_url and not self.target_url.startswith(("http://", "https://")):
            raise ValueError("target_url must start with http:// or https://")
        if isinstance(self.shape, list) and not self.shape:
            raise ValueError("shape: give at least one step")
        if isinstance(self.shape, RateStepsShape) and self.mode != "constant-rate":
            raise ValueError("shape kind 'rate-steps' needs mode 'constant-rate'")
        if isinstance(self.shape, (RampShape, SpikeShape)) and self.mode != "closed":
            raise ValueError(f"shape kind '{self.shape.kind}' changes users (closed model); "
                             "for constant-rate use kind 'rate-steps'")
        if self.warmup_s and self.warmup_s >= self.run_seconds():
            raise ValueError(f"warmup_s ({self.warmup_s}) must be shorter than the run "
                             f"({self.run_seconds():g} s)")
        return self

    @model_validator(mode="before")
    @classmethod
    def _rate_from_steps(cls, data: Any) -> Any:
        """Rate steps give the rate: rate_rps is their first step unless given."""
        if isinstance(data, dict) and isinstance(data.get("shape"), dict) \
                and data["shape"].get("kind") == "rate-steps" and data.get("rate_rps") is None \
                and data.get("mode") == "constant-rate":
            steps = data["shape"].get("steps")
            if isinstance(steps, list) and steps and isinstance(steps[0], dict):
                data = {**data, "rate_rps": steps[0].get("rate_rps")}
        return data

    def run_seconds(self) -> float:
        """How long the load runs: the shape's length, else duration_s."""
        return shape_seconds(self.shape) or float(self.duration_s)


def loadgen_host(env: Environment) -> Host:
    return env.hosts.get("loadgen", env.client)


def loadgen_hosts(env: Environment) -> list[Host]:
    """Every load-generator host: `loadgen` first (the Locust master), then loadgen-1..N-1."""
    extra = sorted((h for n, h in env.hosts.items() if n.startswith("loadgen-")),
                   key=lambda h: int(h.name.rsplit("-", 1)[1]))
    return [loadgen_host(env), *extra]


def host_cores(host: Host) -> int:
    """Cores the load host's processes may use (nproc honours CPU affinity)."""
    res = host.executor.run(["nproc"], timeout=30)
    return int(res.stdout.strip()) if res.ok and res.stdout.strip().isdigit() else 1


def locust_version(doc: dict[str, Any] | None) -> str:
    """As reported by the Locust that ran (on the load host), from the plugin's document."""
    version = (doc or {}).get("locust_version")
    return f"locust {version}" if version else "unknown"


def _scrape(via: Host, url: str | None) -> tuple[str | None, str | None]:
    if not url:
        return None, None
    try:
        return http_get(via, url, wait_s=5.0), None
    except BakeoffError as exc:
        return None, str(exc)


def _share(per_host: list[int], users: int) -> list[int]:
    """Worker processes per host, capped at `users` in all, spread round-robin."""
    out = [0] * len(per_host)
    left = max(1, min(sum(per_host), users))
    while left:
        for i, cap in enumerate(per_host):
            if left and out[i] < cap:
                out[i] += 1
                left -= 1
    return out


class HttpLoad:
    name = "http-load"
    tool = TOOL
    metrics: ClassVar[dict[str, str]] = METRICS
    python_tool = True  # run as `python -m locust` on the load-generator host
    tool_host = "loadgen"  # where its version is asked
    Params = Params

    def plan(self, params: Params, env: Any):
        raise NotImplementedError("http-load drives its own processes: use run()")

    @staticmethod
    def host_modules(params: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        """Libraries imported on the hosts: Locust and the plugin on the load generators,
        the PoC service on the server (unless the target is your own service)."""
        need = {"loadgen": ("locust", "hdrh", "psutil")}
        if not params.get("target_url"):
            need["server"] = ("uvicorn", "starlette", "psycopg", "psycopg_pool",
                              "prometheus_client")
        return need

    def run(self, params: Params, env: Environment, ctx: RunContext | None = None) -> str:
        locustfile = check_locustfile(params.locustfile or LOCUSTFILE)
        load_hosts = loadgen_hosts(env)
        via = load_hosts[0]
        users = peak_users(params.shape, params.users)
        # one process per core of every load host (or params.processes per host), never
        # more processes than users
        per_host = [params.processes or host_cores(h) for h in load_hosts]
        workers = ([(h, n) for h, n in zip(load_hosts, _share(per_host, users), strict=True)
                    if n] if len(load_hosts) > 1 else [])
        processes = sum(n for _, n in workers) or max(1, min(per_host[0], users))
        service: PocService | None = None
        metrics_url = params.metrics_url
        try:
            if params.target_url:
                target = params.target_url.rstrip("/")
            else:
                if env.database is None:
                    raise BakeoffError(
                        f"http-load on site {env.site!r}: the PoC service needs a database; add "
                        "`database: {}` to the site, or give params.target_url")
                service = PocService(env.server, env.database, workers=params.service_workers)
                target = service.start(via)
                metrics_url = metrics_url or target + "/metrics"
            before, err_before = _scrape(via, metrics_url)
            rate_steps = ([(s.rate_rps, s.duration_s) for s in params.shape.steps]
                          if isinstance(params.shape, RateStepsShape) else None)
            # rate steps: one more second, so that starting the users (the schedule begins
            # at the first send) does not cut the last step short
            run = LocustRun(locustfile, target, params.users, params.spawn_rate,
                            int(params.run_seconds()) + (1 if rate_steps else 0),
                            processes=processes, mode=params.mode,
                            rate_rps=params.rate_rps,
                            late_threshold_ms=params.late_threshold_ms,
                            shape=locust_steps(params.shape), workers=workers,
                            interval_s=params.interval_s, rate_steps=rate_steps)
            doc, tail = run.run(via)
            after, err_after = _scrape(via, metrics_url)
        finally:
            service_log = service.stop() if service else ""
        return json.dumps({
            "workload": self.name, "format": 1, "locust_version": locust_version(doc),
            "target_url": target, "service": "poc" if service else "external",
            "locustfile": str(locustfile), "processes": processes, "loadgen_host": via.name,
            "loadgen_hosts": [h.name for h, _ in workers] or [via.name],
            "params": params.model_dump(mode="json"), "locust": doc,
            "locust_stderr_tail": tail[-2000:], "service_log_tail": service_log[-2000:],
            "server_metrics": {"url": metrics_url, "before": before, "after": after,
                               "error": err_before or err_after},
        }, indent=1)

    @checked_parse(TOOL)
    def parse(self, output: str, params: Params | None = None) -> ParsedOutput:
        return parse_document(output, params or Params())

    def tool_version_argv(self) -> tuple[str, ...]:
        # the runner swaps in the load host's interpreter (bench.runner.tool_version)
        return (sys.executable, "-m", "locust", "--version")


WORKLOAD = HttpLoad()
