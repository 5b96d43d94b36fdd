"""k8s-time-to-scale on a cluster: a Deployment + LoadBalancer Service + HPA, a timeline.

`deploy` creates the three objects (autoscaling/v2 HPA on CPU utilization, the shape
every managed cluster supports without a metrics adapter), waits until the Service has a
load balancer address and the initial replicas are Ready, and returns the URL; `Sampler`
records, once a second on this machine's clock (the clock the load generator's intervals
use), the Deployment's desired replicas, ready and Pending pods, and Ready/all nodes;
`remove` deletes the three objects. The load itself is http-load's Locust run.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from core.errors import BakeoffError

NAME = "bakeoff-tts"
LABEL = f"app={NAME}"
API_ERRORS = (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError)


@dataclass(frozen=True)
class ServiceSpec:
    image: str
    args: tuple[str, ...]
    port: int
    cpu_request: str
    initial_replicas: int
    max_replicas: int
    target_cpu_pct: int


def _objects(s: ServiceSpec) -> tuple[Any, Any, Any]:
    labels = {"app": NAME}
    container = client.V1Container(
        name="service", image=s.image, args=list(s.args) or None,
        ports=[client.V1ContainerPort(container_port=s.port)],
        resources=client.V1ResourceRequirements(requests={"cpu": s.cpu_request,
                                                          "memory": "64Mi"}))
    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name=NAME, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=s.initial_replicas, selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels=labels),
                                              spec=client.V1PodSpec(containers=[container]))))
    svc = client.V1Service(
        metadata=client.V1ObjectMeta(name=NAME, labels=labels),
        spec=client.V1ServiceSpec(type="LoadBalancer", selector=labels, ports=[
            client.V1ServicePort(port=80, target_port=s.port, protocol="TCP")]))
    hpa = client.V2HorizontalPodAutoscaler(
        metadata=client.V1ObjectMeta(name=NAME, labels=labels),
        spec=client.V2HorizontalPodAutoscalerSpec(
            scale_target_ref=client.V2CrossVersionObjectReference(
                api_version="apps/v1", kind="Deployment", name=NAME),
            min_replicas=s.initial_replicas, max_replicas=s.max_replicas,
            metrics=[client.V2MetricSpec(type="Resource", resource=client.V2ResourceMetricSource(
                name="cpu", target=client.V2MetricTarget(
                    type="Utilization", average_utilization=s.target_cpu_pct)))]))
    return dep, svc, hpa


def _ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True"
               for c in (pod.status and pod.status.conditions) or [])


def deploy(api: Any, s: ServiceSpec, timeout_s: float) -> str:
    """Create the objects; the Service's URL once it has an address and replicas are Ready."""
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    auto = client.AutoscalingV2Api(api)
    dep, svc, hpa = _objects(s)
    for what, create, body in (("Deployment", apps.create_namespaced_deployment, dep),
                               ("Service", core.create_namespaced_service, svc),
                               ("HorizontalPodAutoscaler",
                                auto.create_namespaced_horizontal_pod_autoscaler, hpa)):
        try:
            create("default", body, _request_timeout=30)
        except API_ERRORS as exc:
            why = f"{exc.status} {exc.reason}" if isinstance(exc, ApiException) else str(exc)
            raise BakeoffError(f"k8s-time-to-scale: creating {what} {NAME}: {why}") from None
    deadline = time.monotonic() + timeout_s
    url, ready = None, 0
    while time.monotonic() < deadline:
        live = core.read_namespaced_service(NAME, "default", _request_timeout=30)
        ingress = (live.status.load_balancer.ingress or []) if live.status \
            and live.status.load_balancer else []
        if ingress:
            host = ingress[0].ip or ingress[0].hostname
            port = (ingress[0].ports[0].port if ingress[0].ports else live.spec.ports[0].port)
            url = f"http://{host}:{port}"
        pods = core.list_namespaced_pod("default", label_selector=LABEL,
                                        _request_timeout=30).items
        ready = sum(_ready(p) for p in pods)
        if url and ready >= s.initial_replicas:
            return url
        time.sleep(0.5)
    raise BakeoffError(f"k8s-time-to-scale: within {timeout_s:g} s the Service "
                       f"{'had no load balancer address' if not url else 'had an address'} "
                       f"and {ready}/{s.initial_replicas} replicas were Ready")


def remove(api: Any) -> list[str]:
    """Delete HPA, Service and Deployment (in that order); what could not be deleted."""
    errors = []
    calls = (("HorizontalPodAutoscaler",
              client.AutoscalingV2Api(api).delete_namespaced_horizontal_pod_autoscaler),
             ("Service", client.CoreV1Api(api).delete_namespaced_service),
             ("Deployment", client.AppsV1Api(api).delete_namespaced_deployment))
    for what, delete in calls:
        try:
            delete(NAME, "default", propagation_policy="Foreground", _request_timeout=30)
        except API_ERRORS as exc:
            if not (isinstance(exc, ApiException) and exc.status == 404):
                errors.append(f"deleting {what} {NAME}: {exc}")
    return errors


class Sampler:
    """Once a second: [epoch s, desired, ready, pending, nodes Ready, nodes] into `rows`."""

    def __init__(self, api: Any, max_rows: int = 7200) -> None:
        self.core, self.apps = client.CoreV1Api(api), client.AppsV1Api(api)
        self.rows: list[list[float]] = []
        self.errors: list[str] = []
        self.max_rows = max_rows
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="k8s-sampler")

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def sample(self) -> list[float]:
        t = time.time()
        dep = self.apps.read_namespaced_deployment(NAME, "default", _request_timeout=10)
        pods = [p for p in self.core.list_namespaced_pod(
            "default", label_selector=LABEL, _request_timeout=10).items
                if not p.metadata.deletion_timestamp]
        nodes = self.core.list_node(_request_timeout=10).items
        ready_nodes = sum(any(c.type == "Ready" and c.status == "True"
                              for c in (n.status and n.status.conditions) or []) for n in nodes)
        return [round(t, 3), float(dep.spec.replicas or 0), float(sum(_ready(p) for p in pods)),
                float(sum((p.status and p.status.phase) == "Pending" for p in pods)),
                float(ready_nodes), float(len(nodes))]

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set() and len(self.rows) < self.max_rows:
            try:
                self.rows.append(self.sample())
            except API_ERRORS as exc:
                if len(self.errors) < 20:
                    self.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
            next_at += 1.0
            self._stop.wait(max(0.0, next_at - time.monotonic()))
