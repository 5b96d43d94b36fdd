"""Workload k8s-pod-scale, the measuring core: N replicas, per-pod condition latencies.

PerfKit's kubernetes_scale, with every time taken from the API server's own stamps:
pod creationTimestamp to the lastTransitionTime of PodScheduled, Initialized,
ContainersReady and Ready (status True); node creationTimestamp to its Ready
transition; the Deployment's creationTimestamp to the last pod Ready and the last
new node Ready. The controller's clock is used only for the timeout; its offset to
the API server (from the Date header) is recorded so a reader can tell. Stamps have
one-second resolution, which the metadata says.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from bench.k8s.pod_stamps import _true_at, samples_from_stamps, stamps_of
from bench.k8s.watcher import KindWatcher
from bench.samples import ParsedOutput, Sample


@dataclass(frozen=True)
class PodScaleParams:
    replicas: int = 10
    namespace: str = "default"
    name: str = "bakeoff-pod-scale"
    image: str = "registry.k8s.io/pause:3.9"
    cpu_request: str = "250m"
    memory_request: str = "64Mi"
    expected_new_nodes: int = 0     # at least this many nodes must be created, and be Ready
    timeout_s: float = 900.0        # controller seconds from create to give-up
    read_timeout_s: float = 30.0    # client read timeout of one watch connection
    cleanup: bool = True

    def __post_init__(self) -> None:
        bad = [f"{name} must be {rule}, got {getattr(self, name)!r}" for name, rule, ok in (
            ("replicas", "at least 1", self.replicas >= 1),
            ("expected_new_nodes", "0 or more", self.expected_new_nodes >= 0),
            ("timeout_s", "positive", self.timeout_s > 0),
            ("read_timeout_s", "positive", self.read_timeout_s > 0)) if not ok]
        if bad:
            raise ValueError("k8s-pod-scale params: " + "; ".join(bad))


def measure_clock_offset(api: client.ApiClient) -> dict[str, float]:
    """API server clock minus controller clock, from one request's Date header.

    Date has one-second resolution (truncated), so the bound is +-(0.5 s + half the round trip)
    around the midpoint estimate that adds 0.5 s for the truncation.
    """
    before = time.time()
    _, _, headers = client.VersionApi(api).get_code_with_http_info(_request_timeout=30)
    after = time.time()
    server = parsedate_to_datetime(headers["Date"]).timestamp() + 0.5
    return {"offset_s": server - (before + after) / 2,
            "uncertainty_s": 0.5 + (after - before) / 2}


def _deployment(p: PodScaleParams) -> client.V1Deployment:
    labels = {"app": p.name}
    container = client.V1Container(
        name="pause", image=p.image,
        resources=client.V1ResourceRequirements(
            requests={"cpu": p.cpu_request, "memory": p.memory_request}))
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=p.name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=p.replicas, selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels=labels),
                                              spec=client.V1PodSpec(containers=[container]))))


def _ours(pods: dict[str, Any], start: datetime) -> dict[str, Any]:
    """Pods of this Deployment: created at or after it and not being deleted (a previous
    run's terminating pods carry the same label)."""
    return {k: o for k, o in pods.items()
            if o.metadata.creation_timestamp >= start and not o.metadata.deletion_timestamp}


def _all_ready(pods: dict[str, Any], nodes: dict[str, Any], p: PodScaleParams,
               start: datetime) -> bool:
    ready = [o for o in pods.values() if _true_at(o.status and o.status.conditions, "Ready")]
    new = [n for n in nodes.values() if n.metadata.creation_timestamp >= start]
    nodes_ok = len(new) >= p.expected_new_nodes and all(
        _true_at(n.status and n.status.conditions, "Ready") for n in new)
    return len(ready) >= p.replicas and nodes_ok


def _timeout_reason(pods: dict[str, Any], nodes: dict[str, Any], p: PodScaleParams,
                    start: datetime) -> str:
    ready = sum(1 for o in pods.values() if _true_at(o.status and o.status.conditions, "Ready"))
    new = sorted((n for n in nodes.values() if n.metadata.creation_timestamp >= start),
                 key=lambda n: n.metadata.name)
    parts = [f"timeout after {p.timeout_s:g} s: {ready}/{p.replicas} pods Ready"]
    if len(new) < p.expected_new_nodes:
        parts.append(f"expected at least {p.expected_new_nodes} new nodes, {len(new)} created")
    for n in new:
        if not _true_at(n.status and n.status.conditions, "Ready"):
            cond = next((c for c in n.status.conditions or [] if c.type == "Ready"), None)
            why = f" ({cond.reason}: {cond.message})" if cond and cond.reason else ""
            parts.append(f"node {n.metadata.name} created "
                         f"{n.metadata.creation_timestamp.isoformat()} never became Ready{why}")
    return "; ".join(parts)


def run_pod_scale(api: client.ApiClient, p: PodScaleParams) -> ParsedOutput:
    """Create the Deployment, watch until all N pods (and expected nodes) are Ready or timeout."""
    return run_pod_scale_stamped(api, p)[0]


def run_pod_scale_stamped(api: client.ApiClient, p: PodScaleParams
                          ) -> tuple[ParsedOutput, dict[str, Any] | None]:
    """run_pod_scale, and the stamps its samples were derived from (bench/k8s/pod_stamps.py;
    None when nothing was measured)."""
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    changed = threading.Event()
    selector = f"app={p.name}"
    node_w = KindWatcher(core.list_node, on_change=changed.set, read_timeout_s=p.read_timeout_s)
    pod_w = KindWatcher(core.list_namespaced_pod, on_change=changed.set,
                        read_timeout_s=p.read_timeout_s, namespace=p.namespace,
                        label_selector=selector)
    try:
        clock = measure_clock_offset(api)
        node_w.start()
        pod_w.start()
    except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        node_w.stop()  # the node watch may already run when listing pods fails: never leak it
        pod_w.stop()
        if isinstance(exc, ValueError):
            why = f"the client could not read the cluster's answer: {str(exc).splitlines()[0]}"
            return ParsedOutput([], valid=False, invalid_reason=why), None
        return ParsedOutput([], valid=False, invalid_reason=f"cluster not reachable: {exc}"), None
    try:
        try:
            dep = apps.create_namespaced_deployment(p.namespace, _deployment(p),
                                                    _request_timeout=30)
        except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            reason = f"{exc.status} {exc.reason}" if isinstance(exc, ApiException) else str(exc)
            return ParsedOutput([], valid=False,
                                invalid_reason=f"creating Deployment {p.name}: {reason}"), None
        start = dep.metadata.creation_timestamp
        deadline = time.monotonic() + p.timeout_s
        done = False
        while time.monotonic() < deadline:
            changed.clear()
            if _all_ready(_ours(pod_w.snapshot(), start), node_w.snapshot(), p, start):
                done = True
                break
            changed.wait(min(1.0, max(0.0, deadline - time.monotonic())))
        pods, nodes = _ours(pod_w.snapshot(), start), node_w.snapshot()
    finally:
        pod_w.stop()
        node_w.stop()
    meta = {"replicas": p.replicas, "cpu_request": p.cpu_request, "image": p.image,
            "timestamp_resolution_s": 1.0, "clock_uncertainty_s": round(clock["uncertainty_s"], 3),
            "watch": {k: vars(w.stats) | {"errors": w.stats.errors[:5]}
                      for k, w in (("pods", pod_w), ("nodes", node_w))}}
    meta["events"] = _event_reasons(core, p.namespace, set(pods))
    cleanup_error = _cleanup(apps, p) if p.cleanup else ""
    if cleanup_error:
        meta["cleanup_error"] = cleanup_error
    stamps = stamps_of(pods, nodes, start)
    samples = samples_from_stamps(stamps, meta)
    samples.append(Sample("clock_offset", clock["offset_s"], "s", dict(meta)))
    if not done:
        return ParsedOutput(samples, valid=False,
                            invalid_reason=_timeout_reason(pods, nodes, p, start)
                            + _bad_objects(pod_w, node_w)), stamps
    return ParsedOutput(samples), stamps


def _event_reasons(core: client.CoreV1Api, namespace: str, pods: set[str]) -> dict[str, int]:
    """How often each event reason was recorded for these pods (Scheduled, FailedScheduling,
    TriggeredScaleUp...): context for a slow run, never a measurement."""
    try:
        events = core.list_namespaced_event(namespace, _request_timeout=30).items
    except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError):
        return {}
    counts: dict[str, int] = {}
    for ev in events:
        if ev.involved_object.kind == "Pod" and ev.involved_object.name in pods:
            counts[ev.reason] = counts.get(ev.reason, 0) + (ev.count or 1)
    return dict(sorted(counts.items()))


def _bad_objects(*watchers: KindWatcher) -> str:
    bad = [b for w in watchers for b in w.stats.bad_objects]
    return f"; the client could not read {len(bad)} responses: {bad[0]}" if bad else ""


def _cleanup(apps: client.AppsV1Api, p: PodScaleParams) -> str:
    try:
        apps.delete_namespaced_deployment(p.name, p.namespace, propagation_policy="Foreground",
                                          _request_timeout=30)
    except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        return f"deleting Deployment {p.name}: {exc}"
    return ""


def _samples(pods: dict[str, Any], nodes: dict[str, Any], start: datetime,
             meta: dict[str, Any]) -> list[Sample]:
    """The samples of the watched objects (through their stamps, as the raw output keeps
    them)."""
    return samples_from_stamps(stamps_of(pods, nodes, start), meta)
