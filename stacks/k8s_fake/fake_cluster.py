"""A scripted Kubernetes cluster in virtual time, the state behind the fake API server.

Why virtual time: real API servers stamp creationTimestamp and lastTransitionTime
with one-second resolution, so a test must see whole-second delays to measure them.
The script is written in virtual seconds (scheduler 2 s, node boot 40 s...) and
played back `scale` times faster than real time. Every object is stamped with the
*scripted* virtual time, not the moment the playback thread ran, so a busy machine
changes when the client sees an event but never the timestamps it measures.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

KINDS = ("Pod", "Node", "Event", "Deployment", "Service", "HorizontalPodAutoscaler")


def rfc3339(virtual_s: float) -> str:
    """metav1.Time: whole seconds, UTC, as the API server writes it."""
    when = datetime.fromtimestamp(math.floor(virtual_s), UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class VirtualClock:
    """Virtual seconds since the epoch: `origin` at start, running `scale` times real time."""

    origin: float
    scale: float = 1.0
    _m0: float = field(default_factory=time.monotonic)

    def now(self) -> float:
        return self.origin + (time.monotonic() - self._m0) * self.scale

    def real_delay(self, virtual_at: float) -> float:
        return max(0.0, (virtual_at - self.now()) / self.scale)


@dataclass
class ClusterScript:
    """What the scripted cluster does, in virtual seconds (all delays whole seconds)."""

    initial_nodes: int = 1
    node_cpu_m: int = 2000             # allocatable millicores per node
    replicaset_delay: int = 1          # deployment created -> pods created
    scheduler_delay: int = 2           # pod created (or node ready) -> PodScheduled
    init_delay: int = 1                # scheduled -> Initialized
    pull_delay: int = 4                # Initialized -> ContainersReady (image pull + start)
    ready_delay: int = 0               # ContainersReady -> Ready (readiness gates)
    autoscaler_delay: int = 10         # first unschedulable pod -> new node objects created
    node_boot_delay: int = 40          # node created -> node Ready
    max_nodes: int = 10
    never_ready_nodes: int = 0         # of the new nodes, how many never become Ready
    scale_down_delay: int = 600        # an added node empty this long is removed
    # serving (k8s-time-to-scale; stacks.k8s_fake.fake_serving): real HTTP per running pod
    service_time_ms: float = 40.0      # one request's time in a replica
    replica_concurrency: int = 1       # requests a replica serves at once; more queue
    queue_limit: int = 100             # requests waiting per replica beyond which it says 503
    hpa_delay: int = 15                # the HPA reads the request rate this late
    hpa_period: int = 15               # the HPA evaluates this often


@dataclass
class Faults:
    """Watch faults: drop the first `drops` watch connections after `drop_after` events;
    with `compact_on_drop` the store forgets its history then, so the reconnect gets 410."""

    drop_after: int | None = None
    drops: int = 1
    compact_on_drop: bool = False


class Store:
    """Objects by (kind, namespace, name) with an etcd-like global resourceVersion."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.rv = 0
        self.compacted_rv = 0
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.history: list[tuple[int, str, str, dict[str, Any]]] = []   # rv, type, kind, obj

    def put(self, obj: dict[str, Any], event_type: str | None = None) -> dict[str, Any]:
        with self.cond:
            meta = obj["metadata"]
            key = (obj["kind"], meta.get("namespace", ""), meta["name"])
            etype = event_type or ("MODIFIED" if key in self.objects else "ADDED")
            self.rv += 1
            meta["resourceVersion"] = str(self.rv)
            snap = copy.deepcopy(obj)
            if etype == "DELETED":
                self.objects.pop(key, None)
            else:
                self.objects[key] = snap
            self.history.append((self.rv, etype, obj["kind"], snap))
            self.cond.notify_all()
            return snap

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.cond:
            obj = self.objects.get((kind, namespace, name))
            return copy.deepcopy(obj) if obj else None

    def compact(self) -> None:
        """Forget history up to now, as etcd compaction does (old resourceVersions -> 410)."""
        with self.cond:
            self.compacted_rv = self.rv   # live watches keep streaming, as with etcd


class FakeCluster:
    """The scripted cluster: nodes, a deployment's pods, a scheduler and an autoscaler."""

    def __init__(self, script: ClusterScript, clock: VirtualClock, faults: Faults | None = None):
        self.script = script
        self.clock = clock
        self.faults = faults or Faults()
        self.store = Store()
        self._actions: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._playback, name="fake-k8s", daemon=True)
        from stacks.k8s_fake.fake_serving import Serving  # services, containers, the HPA

        self.serving = Serving(self)
        t0 = clock.now() - 3600
        self.initial_nodes = {f"node-{i}" for i in range(script.initial_nodes)}
        for i in range(script.initial_nodes):
            self.store.put(self._node(f"node-{i}", t0, ready_at=t0))
        self._thread.start()

    def close(self) -> None:
        with self._wake:
            self._stop = True
            self._wake.notify_all()
        self._thread.join(timeout=5)
        self.serving.close()

    # -- playback ---------------------------------------------------------------------
    def at(self, virtual_s: float, action: Callable[[], None]) -> None:
        with self._wake:
            heapq.heappush(self._actions, (virtual_s, next(self._seq), action))
            self._wake.notify_all()

    def _playback(self) -> None:
        while True:
            with self._wake:
                if self._stop:
                    return
                if not self._actions:
                    self._wake.wait(0.5)
                    continue
                due, _, action = self._actions[0]
                delay = self.clock.real_delay(due)
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                heapq.heappop(self._actions)
            action()

    # -- object shapes ----------------------------------------------------------------
    def _meta(self, name: str, created: float, namespace: str | None = None, **extra: Any) -> dict:
        meta = {"name": name, "uid": str(uuid.uuid4()), "creationTimestamp": rfc3339(created)}
        if namespace is not None:
            meta["namespace"] = namespace
        meta.update(extra)
        return meta

    def _node(self, name: str, created: float, ready_at: float | None) -> dict[str, Any]:
        ready = ready_at is not None and ready_at <= created
        cpu = f"{self.script.node_cpu_m}m"
        return {
            "apiVersion": "v1", "kind": "Node",
            "metadata": self._meta(name, created, labels={"kubernetes.io/hostname": name}),
            "spec": {"providerID": f"fake:///zone-a/{name}"},
            "status": {
                "capacity": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
                "allocatable": {"cpu": cpu, "memory": "7Gi", "pods": "110"},
                "conditions": [_node_ready(ready, created)],
                "nodeInfo": _node_info(),
            },
        }

    def _event(self, ns: str, reason: str, message: str, obj: dict, at: float,
               source: str, etype: str = "Normal") -> None:
        meta = obj["metadata"]
        self.store.put({
            "apiVersion": "v1", "kind": "Event",
            "metadata": self._meta(f"{meta['name']}.{next(self._seq):x}", at, ns),
            "involvedObject": {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
                               "name": meta["name"], "namespace": meta.get("namespace"),
                               "uid": meta["uid"]},
            "reason": reason, "message": message, "type": etype, "count": 1,
            "source": {"component": source},
            "firstTimestamp": rfc3339(at), "lastTimestamp": rfc3339(at),
        })

    # -- the deployment's life --------------------------------------------------------
    def create_deployment(self, ns: str, body: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        dep = copy.deepcopy(body)
        dep.update(apiVersion="apps/v1", kind="Deployment")
        dep["metadata"] = self._meta(body["metadata"]["name"], now, ns,
                                     labels=body["metadata"].get("labels") or {}, generation=1)
        dep["status"] = {}
        stored = self.store.put(dep)
        from stacks.k8s_fake.fake_plan import plan_deployment  # the pure timeline
        plan_deployment(self, stored, now)
        return stored

    def delete_deployment(self, ns: str, name: str) -> dict[str, Any] | None:
        dep = self.store.get("Deployment", ns, name)
        if dep is None:
            return None
        self.store.put(dep, "DELETED")
        with self.store.cond:
            pods = [o for (k, n, _), o in self.store.objects.items()
                    if k == "Pod" and n == ns
                    and o["metadata"].get("labels", {}).get("bakeoff-deployment") == name]
        from stacks.k8s_fake.fake_plan import release, scale_down_later

        for pod in pods:
            self.store.put(copy.deepcopy(pod), "DELETED")
            release(self, pod["metadata"]["name"])
            self.serving.pod_deleted(pod["metadata"]["name"])
        scale_down_later(self, self.clock.now() + self.script.scale_down_delay)
        return dep


def _node_ready(ready: bool, at: float) -> dict[str, Any]:
    return {"type": "Ready", "status": "True" if ready else "False",
            "reason": "KubeletReady" if ready else "KubeletNotReady",
            "message": "kubelet is posting ready status" if ready
            else "container runtime network not ready: NetworkReady=false",
            "lastHeartbeatTime": rfc3339(at), "lastTransitionTime": rfc3339(at)}


def _node_info() -> dict[str, str]:
    return {"architecture": "amd64", "bootID": "", "containerRuntimeVersion": "containerd://1.7.11",
            "kernelVersion": "6.1.0", "kubeProxyVersion": "v1.29.0", "kubeletVersion": "v1.29.0",
            "machineID": "", "operatingSystem": "linux", "osImage": "Fake Linux",
            "systemUUID": ""}
