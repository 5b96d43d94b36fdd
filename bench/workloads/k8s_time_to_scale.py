"""k8s-time-to-scale: a Service behind an HPA, a sudden spike, and how long until it copes.

On a cluster site (env.notes["kubernetes"]): after a fresh scale-down, a Deployment of
`image` (default: the public agnhost image serving HTTP, no registry of the user's), a
LoadBalancer Service and an autoscaling/v2 HPA on CPU (bench.k8s.time_to_scale). Locust
(http-load's own run: constant-rate rate steps, exact HDR per second) sends `base_rps`
from the site's load host for `base_s`, then `spike_rps` for `hold_s`, then `base_rps`
for `recovery_s`, while the cluster is sampled once a second. The raw output holds the
timeline, the spike's start and the load's whole document; `parse` derives the figures
(bench.k8s.tts_derive), the headline `time_to_scale_s` being the time from the spike
until p99 is back under `p99_requirement_ms` with no errors.
"""

from __future__ import annotations

import json
import sys
from itertools import pairwise
from typing import Any, ClassVar

from pydantic import Field, model_validator

from bench.k8s.client import api_client, cluster_notes
from bench.samples import ParsedOutput, Sample
from bench.workloads import _json as J
from bench.workloads._checks import checked_parse
from bench.workloads._k8s_common import TOOL, CpuRequest, client_version, wait_scaled_down
from bench.workloads._load_shapes import MAX_RATE_RPS, MAX_STEP_S
from bench.workloads.base import RunContext, WorkloadParams
from core.environment import Environment
from core.errors import BakeoffError, ParseError

DEFAULT_IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.47"
# A send this late counts as late: the timeline is per second, and on a shared machine a
# few ms of scheduling delay in the load generator is not the cluster's doing.
LATE_MS = 50.0
DERIVED = {"time_to_scale_s": "s", "hpa_scale_up_s": "s", "replicas_ready_s": "s",
           "nodes_ready_s": "s", "new_nodes": "count", "max_replicas": "count",
           "replicas_before": "count", "spike_requests": "count", "spike_errors": "count",
           "spike_p99_peak_ms": "ms"}


class Params(WorkloadParams):
    image: str = Field(DEFAULT_IMAGE, min_length=3, max_length=300,
                       description="the service's image (yours, or the public default)")
    args: list[str] = Field(default_factory=lambda: ["netexec", "--http-port=8080"],
                            max_length=20, description="the container's arguments")
    port: int = Field(8080, ge=1, le=65535, description="the port the container serves")
    cpu_request: CpuRequest = Field("500m", description="CPU request per replica")
    initial_replicas: int = Field(1, ge=1, le=100, description="replicas before the spike "
                                  "(the HPA's minimum)")
    max_replicas: int = Field(10, ge=1, le=1000, description="the HPA's maximum")
    target_cpu_pct: int = Field(50, ge=1, le=100, description="the HPA's CPU target")
    base_rps: float = Field(10.0, gt=0, le=MAX_RATE_RPS, description="requests/s before "
                            "and after the spike")
    spike_rps: float = Field(60.0, gt=0, le=MAX_RATE_RPS, description="requests/s during "
                             "the spike")
    base_s: int = Field(5, ge=2, le=MAX_STEP_S, description="base rate before the spike")
    hold_s: int = Field(35, ge=3, le=MAX_STEP_S, description="the spike's length")
    recovery_s: int = Field(2, ge=1, le=MAX_STEP_S, description="base rate afterwards, s")
    users: int = Field(200, ge=1, le=10_000, description="Locust users (enough to keep "
                       "sending on time while replies are slow)")
    p99_requirement_ms: float = Field(400.0, gt=0, le=600_000, description="the latency "
                                      "requirement time_to_scale_s is measured against")
    stable_s: int = Field(3, ge=1, le=60, description="seconds in a row within it")
    ready_timeout_s: float = Field(600.0, gt=0, le=7200, description="for the Service's "
                                   "address and the initial replicas")
    settle_timeout_s: float = Field(900.0, gt=0, le=7200, description="wait for a fresh "
                                    "scale-down before each repetition")

    def run_seconds(self) -> float:
        """How long the load runs (`bakeoff plan` adds it to its estimate)."""
        return float(self.base_s + self.hold_s + self.recovery_s)

    @model_validator(mode="after")
    def _spike(self) -> Params:
        if self.spike_rps <= self.base_rps:
            raise ValueError(f"spike_rps ({self.spike_rps:g}) must exceed base_rps "
                             f"({self.base_rps:g})")
        if self.max_replicas < self.initial_replicas:
            raise ValueError("max_replicas must be at least initial_replicas")
        if self.stable_s > self.hold_s:
            raise ValueError(f"stable_s ({self.stable_s}) must not exceed hold_s")
        return self


def _load_params(p: Params, url: str) -> Any:
    from bench.k8s import LOCUSTFILE
    from bench.workloads.http_load import Params as HttpParams

    return HttpParams(target_url=url, locustfile=str(LOCUSTFILE), mode="constant-rate",
                      users=p.users, spawn_rate=float(p.users), processes=1, interval_s=1,
                      late_threshold_ms=LATE_MS,
                      shape={"kind": "rate-steps", "steps": [
                          {"rate_rps": p.base_rps, "duration_s": p.base_s},
                          {"rate_rps": p.spike_rps, "duration_s": p.hold_s},
                          {"rate_rps": p.base_rps, "duration_s": p.recovery_s}]})


class K8sTimeToScale:
    name = "k8s-time-to-scale"
    tool = TOOL
    python_tool = True
    tool_host = "loadgen"
    metrics: ClassVar[dict[str, str]] = {**DERIVED, "timeline_points": "count"}
    Params = Params

    def plan(self, params: Params, env: Any):
        raise NotImplementedError("k8s-time-to-scale drives the cluster and Locust: use run()")

    @staticmethod
    def host_modules(params: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        return {"loadgen": ("locust", "hdrh", "psutil")}

    def run(self, params: Params, env: Environment, ctx: RunContext | None = None) -> str:
        from kubernetes import client

        from bench.k8s import time_to_scale as K
        from bench.workloads import REGISTRY

        notes = cluster_notes(env, self.name)
        api = api_client(notes, self.name)
        sampler = None
        errors: list[str] = []
        try:
            try:
                settled = wait_scaled_down(client.CoreV1Api(api), notes, K.LABEL,
                                           params.settle_timeout_s)
            except K.API_ERRORS as exc:
                raise BakeoffError(f"{self.name}: cluster not reachable: {exc}") from None
            if settled:
                raise BakeoffError(f"{self.name}: {settled}")
            spec = K.ServiceSpec(params.image, tuple(params.args), params.port,
                                 params.cpu_request, params.initial_replicas,
                                 params.max_replicas, params.target_cpu_pct)
            try:
                url = K.deploy(api, spec, params.ready_timeout_s)
                sampler = K.Sampler(api).start()
                load = REGISTRY["http-load"]
                raw_load = load.run(_load_params(params, url), env, ctx)
            finally:
                if sampler is not None:
                    sampler.stop()
                errors = K.remove(api)
        finally:
            api.close()
        return json.dumps({
            "workload": self.name, "format": 1, "cluster": notes.get("cluster"),
            "provider": notes.get("provider"), "label": notes.get("label"),
            "time_scale": notes.get("time_scale", 1.0), "target_url": url,
            "params": params.model_dump(mode="json"), "timeline": sampler.rows,
            "sampler_errors": sampler.errors, "cleanup_errors": errors,
            "load": json.loads(raw_load)}, indent=1)

    @checked_parse(TOOL)
    def parse(self, output: str, params: Params | None = None) -> ParsedOutput:
        from bench.k8s.tts_derive import derive
        from bench.workloads import REGISTRY
        from bench.workloads._interval_parse import read_intervals

        doc = J.loads(TOOL, output, "k8s-time-to-scale raw output")
        if not isinstance(doc, dict) or doc.get("workload") != self.name:
            raise ParseError(TOOL, "raw output is not a k8s-time-to-scale JSON document")
        p = Params.model_validate(J.obj(TOOL, doc, "params"))
        timeline = _timeline(J.array(TOOL, doc, "timeline"))
        load_doc = J.obj(TOOL, doc, "load")
        loc = J.obj(TOOL, load_doc, "locust")
        url = J.text(TOOL, doc, "target_url")
        loaded = REGISTRY["http-load"].parse(json.dumps(load_doc), _load_params(p, url))
        first = J.num(TOOL, loc, "first_request_at", J.num(TOOL, loc, "t_start", 0.0))
        window = J.num(TOOL, loc, "window_s")
        seconds = []
        for iv in read_intervals(loc, (first, first + window)):
            hist = None
            for h in iv.hists.values():
                if hist is None:
                    hist = h
                else:
                    hist.add(h)
            n = sum(iv.requests.values())
            p99 = hist.get_value_at_percentile(99.0) / 1000.0 if hist and hist.get_total_count() \
                else None
            seconds.append([iv.start, p99, n, sum(iv.failures.values())])
        spike_at = first + p.base_s
        d = derive(timeline, seconds, spike_at, p.hold_s, p.p99_requirement_ms, p.stable_s)
        scale = float(doc.get("time_scale") or 1.0)
        meta = {"cluster_label": str(doc.get("label") or ""),
                "cleanup_errors": [str(e)[:300] for e in doc.get("cleanup_errors") or []],
                "p99_requirement_ms":
                p.p99_requirement_ms, "spike_rps": p.spike_rps, "base_rps": p.base_rps,
                "hold_s": p.hold_s, "resolution_s": 1.0, "time_scale": scale}
        samples = [Sample(k, float(d[k]), unit, dict(meta)) for k, unit in DERIVED.items()
                   if d.get(k) is not None]
        samples.append(Sample("timeline_points", float(len(timeline)), "count", dict(
            meta, spike_at=spike_at,
            timeline=[[round(r[0] - spike_at, 3), *r[1:]] for r in timeline],
            seconds=[[round(s[0] - spike_at, 3), s[1], s[2], s[3]] for s in seconds])))
        reasons = list(d["reasons"])
        if not loaded.valid:
            reasons.append(f"load: {loaded.invalid_reason}")
        histograms = [h for h in loaded.histograms if h.name.startswith("interval_latency:")]
        return ParsedOutput(samples, histograms, not reasons, "; ".join(reasons))

    def tool_version_argv(self) -> tuple[str, ...]:
        return (sys.executable, "-c", "import kubernetes; print(kubernetes.__version__)")

    @staticmethod
    def controller_version() -> str:
        return client_version()


def _timeline(rows: list[Any]) -> list[list[float]]:
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 6 or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in row):
            raise ParseError(TOOL, f"timeline[{i}]: expected 6 numbers "
                             "[t, desired, ready, pending, nodes ready, nodes]")
        out.append([float(v) for v in row])
    if any(b[0] < a[0] for a, b in pairwise(out)):
        raise ParseError(TOOL, "timeline: times go backwards")
    return out


WORKLOAD = K8sTimeToScale()
