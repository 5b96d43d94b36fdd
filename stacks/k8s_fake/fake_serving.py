"""Services and a scripted HPA on the fake cluster (what k8s-time-to-scale needs).

A Service (type LoadBalancer) gets a ServiceFront on 127.0.0.1 and reports it as its
load balancer's ingress (`status.loadBalancer.ingress[0].ip` and `.ports[0].port`, the
fields a real cloud load balancer fills). A pod whose container declares a port gets a
ReplicaServer when its container starts; it joins the Service's endpoints when Ready.

The HPA (autoscaling/v2, CPU utilization target) is scripted the way the real controller
computes: desired = ceil(sum of the ready pods' utilization / target), utilization being
the share of a pod's capacity its requests keep busy (request rate x service time /
concurrency). It reads the request rate `hpa_delay` seconds late, as metrics-server's
scrape window and the HPA's sync period make a real one late, evaluates every
`hpa_period` seconds, keeps a 10 % tolerance and only scales up (a real HPA's scale-down
stabilization is 300 s, longer than a run). New replicas go through the same scheduler
and cluster autoscaler as any pod, so they wait Pending for new nodes when none fit.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from typing import TYPE_CHECKING, Any

from stacks.k8s_fake.fake_cluster import rfc3339
from stacks.k8s_fake.fake_service import ReplicaServer, ServiceFront

if TYPE_CHECKING:
    from stacks.k8s_fake.fake_cluster import FakeCluster


def _serves(pod: dict[str, Any]) -> bool:
    return any(c.get("ports") for c in pod["spec"].get("containers", []))


class Serving:
    """The cluster's running containers, Services and HPAs."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster
        self.lock = threading.Lock()
        self.replicas: dict[str, ReplicaServer] = {}
        self.ready: dict[str, tuple[dict[str, str], int]] = {}   # pod -> (labels, port)
        self.fronts: dict[tuple[str, str], ServiceFront] = {}
        self.hpas: dict[tuple[str, str], dict[str, Any]] = {}
        self._stop = threading.Event()
        self._hpa_thread: threading.Thread | None = None

    # -- containers ---------------------------------------------------------------------
    def container_started(self, pod: dict[str, Any]) -> None:
        if not _serves(pod):
            return
        s = self.cluster.script
        srv = ReplicaServer(pod["metadata"]["name"], s.service_time_ms, s.replica_concurrency,
                            s.queue_limit)
        with self.lock:
            self.replicas[pod["metadata"]["name"]] = srv

    def pod_ready(self, pod: dict[str, Any]) -> None:
        name = pod["metadata"]["name"]
        with self.lock:
            if name in self.replicas:
                self.ready[name] = (pod["metadata"].get("labels") or {}, self.replicas[name].port)

    def pod_deleted(self, name: str) -> None:
        with self.lock:
            self.ready.pop(name, None)
            srv = self.replicas.pop(name, None)
        if srv is not None:
            srv.close()

    def endpoints(self, selector: dict[str, str]) -> list[int]:
        with self.lock:
            return [port for labels, port in self.ready.values()
                    if all(labels.get(k) == v for k, v in selector.items())]

    # -- services -----------------------------------------------------------------------
    def create_service(self, ns: str, body: dict[str, Any]) -> dict[str, Any]:
        c = self.cluster
        name = body["metadata"]["name"]
        selector = dict((body.get("spec") or {}).get("selector") or {})
        front = ServiceFront(name, lambda: self.endpoints(selector))
        with self.lock:
            self.fronts[(ns, name)] = front
        svc = copy.deepcopy(body)
        svc.update(apiVersion="v1", kind="Service")
        svc["metadata"] = c._meta(name, c.clock.now(), ns,
                                  labels=body["metadata"].get("labels") or {})
        spec = svc.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec["clusterIP"] = f"10.96.0.{len(self.fronts) + 9}"
        spec["clusterIPs"] = [spec["clusterIP"]]
        for p in spec.get("ports") or []:
            p.setdefault("protocol", "TCP")
            p.setdefault("targetPort", p.get("port"))
        svc["status"] = {"loadBalancer": {}}
        if spec["type"] == "LoadBalancer":
            svc["status"]["loadBalancer"] = {"ingress": [
                {"ip": "127.0.0.1", "ports": [{"port": front.port, "protocol": "TCP"}]}]}
        return c.store.put(svc)

    def delete_service(self, ns: str, name: str) -> dict[str, Any] | None:
        svc = self.cluster.store.get("Service", ns, name)
        if svc is None:
            return None
        with self.lock:
            front = self.fronts.pop((ns, name), None)
        if front is not None:
            front.close()
        self.cluster.store.put(svc, "DELETED")
        return svc

    def front_for(self, labels: dict[str, str]) -> ServiceFront | None:
        """The Service whose selector selects pods with these labels."""
        with self.lock:
            fronts = list(self.fronts.items())
        for (ns, name), front in fronts:
            svc = self.cluster.store.get("Service", ns, name)
            sel = ((svc or {}).get("spec") or {}).get("selector") or {}
            if sel and all(labels.get(k) == v for k, v in sel.items()):
                return front
        return None

    # -- the HPA ------------------------------------------------------------------------
    def create_hpa(self, ns: str, body: dict[str, Any]) -> dict[str, Any]:
        c = self.cluster
        hpa = copy.deepcopy(body)
        hpa.update(apiVersion="autoscaling/v2", kind="HorizontalPodAutoscaler")
        hpa["metadata"] = c._meta(body["metadata"]["name"], c.clock.now(), ns,
                                  labels=body["metadata"].get("labels") or {})
        dep = c.store.get("Deployment", ns, hpa["spec"]["scaleTargetRef"]["name"])
        current = int(dep["spec"].get("replicas", 1)) if dep else 0
        hpa["status"] = {"currentReplicas": current, "desiredReplicas": current}
        stored = c.store.put(hpa)
        with self.lock:
            self.hpas[(ns, hpa["metadata"]["name"])] = stored
            if self._hpa_thread is None:
                self._hpa_thread = threading.Thread(target=self._hpa_loop, daemon=True,
                                                    name="fake-hpa")
                self._hpa_thread.start()
        return stored

    def delete_hpa(self, ns: str, name: str) -> dict[str, Any] | None:
        hpa = self.cluster.store.get("HorizontalPodAutoscaler", ns, name)
        with self.lock:
            self.hpas.pop((ns, name), None)
        if hpa is not None:
            self.cluster.store.put(hpa, "DELETED")
        return hpa

    def _hpa_loop(self) -> None:
        c = self.cluster
        period = max(0.05, c.script.hpa_period / c.clock.scale)
        while not self._stop.wait(period):
            with self.lock:
                keys = list(self.hpas)
            for ns, name in keys:
                self._evaluate(ns, name)

    def _evaluate(self, ns: str, name: str) -> None:
        c = self.cluster
        s = c.script
        hpa = c.store.get("HorizontalPodAutoscaler", ns, name)
        if hpa is None:
            return
        dep = c.store.get("Deployment", ns, hpa["spec"]["scaleTargetRef"]["name"])
        if dep is None:
            return
        labels = dep["spec"]["template"]["metadata"].get("labels") or {}
        front = self.front_for(labels)
        ready = len(self.endpoints(labels))
        if front is None or ready == 0:
            return
        target = _target_utilization(hpa)
        rate = front.rate_at(time.time() - s.hpa_delay / c.clock.scale)
        busy = rate * s.service_time_ms / 1000.0 / s.replica_concurrency  # pods' worth busy
        util = 100.0 * busy / ready
        current = int(dep["spec"].get("replicas", 1))
        hpa["status"]["currentMetrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "current": {"averageUtilization": round(util)}}}]
        desired = current
        if abs(util / target - 1.0) > 0.1:
            desired = math.ceil(ready * util / target)
        lo, hi = int(hpa["spec"].get("minReplicas", 1)), int(hpa["spec"]["maxReplicas"])
        desired = max(lo, min(hi, desired))
        now = c.clock.now()
        if desired > current:
            dep["spec"]["replicas"] = desired
            dep["metadata"]["generation"] = int(dep["metadata"].get("generation", 1)) + 1
            stored = c.store.put(dep)
            from stacks.k8s_fake.fake_plan import add_pods

            add_pods(c, stored, current, desired - current, now)
            hpa["status"]["lastScaleTime"] = rfc3339(now)
            c._event(ns, "SuccessfulRescale", f"New size: {desired}; reason: cpu resource "
                     "utilization (percentage of request) above target", hpa, now,
                     "horizontal-pod-autoscaler")
        hpa["status"].update(currentReplicas=current, desiredReplicas=max(desired, current))
        c.store.put(hpa)

    def close(self) -> None:
        self._stop.set()
        with self.lock:
            fronts, replicas = list(self.fronts.values()), list(self.replicas.values())
            self.fronts.clear()
            self.replicas.clear()
            self.ready.clear()
        for srv in [*fronts, *replicas]:
            srv.close()
        if self._hpa_thread is not None:
            self._hpa_thread.join(timeout=5)


def _target_utilization(hpa: dict[str, Any]) -> float:
    for m in hpa["spec"].get("metrics") or []:
        target = ((m.get("resource") or {}).get("target") or {})
        if m.get("type") == "Resource" and target.get("averageUtilization"):
            return float(target["averageUtilization"])
    return 80.0  # the HPA's default CPU target
