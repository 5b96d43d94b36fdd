"""k8s-pod-scale: N replicas of a small pod that force new nodes; condition latencies.

Runs against a cluster site (env.notes["kubernetes"]: the local simulated cluster or a
cloud cluster), through bench.k8s.pod_scale (docs/kubernetes.md): every duration from the
API server's own stamps. Before measuring, it waits for a fresh scale-down (the cluster
at its minimum nodes, no pod of the previous repetition left), so each repetition
measures a scale-up from the same state. The raw output is the JSON of the samples with
their metadata, the validity and its reason, the cluster's label, and (format 2) the API
server's stamps the samples were derived from: `parse` derives them again from the stamps
(bench/k8s/pod_stamps.py) and refuses a document whose samples disagree, so `bakeoff
verify` recomputes them from first principles. Format 1 (samples only) still parses.
"""

from __future__ import annotations

import json
import sys
from typing import Any, ClassVar

from pydantic import Field

from bench.k8s.client import api_client, cluster_notes
from bench.samples import ParsedOutput, Sample
from bench.workloads import _json as J
from bench.workloads._checks import checked_parse
from bench.workloads._k8s_common import (
    TOOL,
    CpuRequest,
    client_version,
    samples_from,
    wait_scaled_down,
)
from bench.workloads.base import RunContext, WorkloadParams
from core.environment import Environment
from core.errors import BakeoffError, ParseError

NAME = "bakeoff-pod-scale"


class Params(WorkloadParams):
    replicas: int = Field(10, ge=1, le=1000, description="pods created at once")
    cpu_request: CpuRequest = Field("500m", description="CPU request per pod, e.g. 500m or 1; "
                             "large enough that the replicas need new nodes")
    expected_new_nodes: int = Field(1, ge=0, le=100, description="nodes the autoscaler must "
                                    "add (fewer: the run did not measure a scale-up)")
    timeout_s: float = Field(900.0, gt=0, le=7200, description="create to give-up")
    image: str = Field("registry.k8s.io/pause:3.9", min_length=3, max_length=300,
                       description="a small public image")
    settle_timeout_s: float = Field(900.0, gt=0, le=7200, description="wait for a fresh "
                                    "scale-down before each repetition")


class K8sPodScale:
    name = "k8s-pod-scale"
    tool = TOOL
    python_tool = True  # the client library, in this interpreter
    metrics: ClassVar[dict[str, str]] = {
        "pod_scheduled_s": "s", "pod_initialized_s": "s", "pod_containers_ready_s": "s",
        "pod_ready_s": "s", "node_ready_s": "s", "time_to_all_pods_ready_s": "s",
        "time_to_last_node_ready_s": "s", "new_nodes": "count", "clock_offset": "s"}
    Params = Params

    def plan(self, params: Params, env: Any):
        raise NotImplementedError("k8s-pod-scale drives the cluster's API: use run()")

    @staticmethod
    def host_modules(params: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        return {}  # the client runs in this process

    def run(self, params: Params, env: Environment, ctx: RunContext | None = None) -> str:
        from bench.k8s.pod_scale import PodScaleParams, run_pod_scale_stamped

        notes = cluster_notes(env, self.name)
        api = api_client(notes, self.name)
        try:
            from kubernetes import client

            settled = wait_scaled_down(client.CoreV1Api(api), notes, f"app={NAME}",
                                       params.settle_timeout_s)
            stamps = None
            if settled:
                out = ParsedOutput([], valid=False, invalid_reason=settled)
            else:
                out, stamps = run_pod_scale_stamped(api, PodScaleParams(
                    replicas=params.replicas, name=NAME, image=params.image,
                    cpu_request=params.cpu_request,
                    expected_new_nodes=params.expected_new_nodes, timeout_s=params.timeout_s))
        except Exception as exc:  # the cluster's API failing is this unit's failure
            if isinstance(exc, BakeoffError):
                raise
            raise BakeoffError(f"{self.name}: {type(exc).__name__}: {exc}") from None
        finally:
            api.close()
        if not out.samples:
            raise BakeoffError(f"{self.name}: nothing measured: {out.invalid_reason}")
        return json.dumps({"workload": self.name, "format": 2, "cluster": notes.get("cluster"),
                           "provider": notes.get("provider"), "label": notes.get("label"),
                           "params": params.model_dump(mode="json"), "valid": out.valid,
                           "invalid_reason": out.invalid_reason,
                           "samples": [s.to_json() for s in out.samples],
                           "stamps": stamps}, indent=1, default=str)

    @checked_parse(TOOL)
    def parse(self, output: str, params: Params | None = None) -> ParsedOutput:
        doc = J.loads(TOOL, output, "k8s-pod-scale raw output")
        if not isinstance(doc, dict) or doc.get("workload") != self.name:
            raise ParseError(TOOL, "raw output is not a k8s-pod-scale JSON document")
        valid = doc.get("valid")
        if not isinstance(valid, bool):
            raise ParseError(TOOL, "'valid' must be true or false")
        samples = samples_from(doc)
        if doc.get("stamps") is not None:  # format 2: derive them again from the stamps
            samples = rederived(doc["stamps"], samples)
        for s in samples:
            if s.metric not in self.metrics:
                raise ParseError(TOOL, f"unknown metric {s.metric[:60]!r}")
        label = str(doc.get("label") or "")
        samples = [type(s)(s.metric, s.value, s.unit, {**s.metadata, "cluster_label": label})
                   for s in samples]
        reason = "" if valid else J.text(TOOL, doc, "invalid_reason")
        return ParsedOutput(samples, [], valid, reason)

    def tool_version_argv(self) -> tuple[str, ...]:
        return (sys.executable, "-c", "import kubernetes; print(kubernetes.__version__)")

    @staticmethod
    def controller_version() -> str:
        return client_version()


def rederived(stamps: Any, recorded: list[Sample]) -> list[Sample]:
    """The samples derived from the stamps (with the recorded clock offset, which no stamp
    holds), checked against the recorded ones: a disagreement names metric and values."""
    from bench.k8s.pod_stamps import samples_from_stamps

    offset = [s for s in recorded if s.metric == "clock_offset"]
    meta = dict(offset[0].metadata) if offset else {}
    if not isinstance(stamps, dict):
        raise ParseError(TOOL, "'stamps' must be an object")
    try:
        derived = samples_from_stamps(stamps, meta) + offset
    except (ValueError, TypeError, AttributeError) as e:
        raise ParseError(TOOL, f"stamps: {str(e)[:200]}") from None
    if len(derived) != len(recorded):
        raise ParseError(TOOL, f"the stamps give {len(derived)} samples, the document records "
                         f"{len(recorded)}")
    for d, r in zip(derived, recorded, strict=True):
        key = ("percentile", "node")
        if (d.metric, d.unit) != (r.metric, r.unit) or abs(d.value - r.value) > 1e-9 or \
                [d.metadata.get(k) for k in key] != [r.metadata.get(k) for k in key]:
            raise ParseError(TOOL, f"recorded {r.metric} = {r.value:g} "
                             f"({ {k: r.metadata.get(k) for k in key} }) but the stamps give "
                             f"{d.metric} = {d.value:g}")
    return derived


WORKLOAD = K8sPodScale()
