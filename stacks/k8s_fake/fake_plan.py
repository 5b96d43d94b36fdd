"""The timeline a deployment follows in the fake cluster, worked out when it is created.

ReplicaSet creates the pods; the scheduler binds those that fit on a Ready node and
marks the rest Unschedulable; the autoscaler then adds enough nodes for the pending
CPU (up to max_nodes); pods move to a new node once it is Ready. Every transition is
queued at its virtual time and stamped with it (see fake_cluster's docstring).
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

from stacks.k8s_fake.fake_cluster import _node_ready, rfc3339

if TYPE_CHECKING:
    from stacks.k8s_fake.fake_cluster import FakeCluster


def cpu_millis(value: str | int | float) -> int:
    """'250m' -> 250, '1' -> 1000, 0.5 -> 500."""
    text = str(value)
    if text.endswith("m"):
        return int(text[:-1])
    return round(float(text) * 1000)


def _requested_cpu(dep: dict[str, Any]) -> int:
    total = 0
    for c in dep["spec"]["template"]["spec"].get("containers", []):
        req = (c.get("resources") or {}).get("requests") or {}
        total += cpu_millis(req.get("cpu", "0"))
    return total


def _free_capacity(cluster: FakeCluster) -> dict[str, int]:
    """Free millicores per node (Ready or booting), kept on the cluster across deployments."""
    free = getattr(cluster, "free_cpu", None)
    if free is None:
        free = {}
        with cluster.store.cond:
            for (kind, _, name), obj in cluster.store.objects.items():
                if kind == "Node" and obj["status"]["conditions"][0]["status"] == "True":
                    free[name] = cluster.script.node_cpu_m
        cluster.free_cpu = free  # type: ignore[attr-defined]
        cluster.node_ready_at = dict.fromkeys(free, 0.0)  # type: ignore[attr-defined]
        cluster.node_count = len(free)  # type: ignore[attr-defined]
        cluster.node_seq = len(free)  # type: ignore[attr-defined]  # names never reused
        cluster.placed = {}  # type: ignore[attr-defined]  # pod name -> (node, millicores)
    return free


def _first_fit(free: dict[str, int], need: int) -> str | None:
    for name, left in free.items():
        if left >= need:
            free[name] = left - need
            return name
    return None


def plan_deployment(cluster: FakeCluster, dep: dict[str, Any], now: float) -> None:
    add_pods(cluster, dep, 0, int(dep["spec"].get("replicas", 1)), now)


def add_pods(cluster: FakeCluster, dep: dict[str, Any], first: int, count: int,
             now: float) -> None:
    """Pods first..first+count-1 of `dep`, created now + replicaset_delay; those that fit no
    node (Ready or already booting) wait for the autoscaler's new nodes."""
    s = cluster.script
    ns = dep["metadata"]["namespace"]
    need = _requested_cpu(dep)
    free = _free_capacity(cluster)
    ready_at: dict[str, float] = cluster.node_ready_at  # type: ignore[attr-defined]
    created = now + s.replicaset_delay
    first_try = created + s.scheduler_delay
    pods = [_pod(cluster, dep, i, created) for i in range(first, first + count)]
    for pod in pods:
        cluster.at(created, _put_while(cluster, pod, dep))
    pending = []
    for pod in pods:
        node = _first_fit(free, need)
        if node:
            _place(cluster, pod, node, need)
            _run_pod(cluster, pod, node, max(first_try, ready_at[node] + s.scheduler_delay))
        else:
            pending.append(pod)
            cluster.at(first_try, _unschedulable(cluster, pod, first_try, len(free), ns))
    if not pending:
        return
    existing = cluster.node_count  # type: ignore[attr-defined]
    per_node = max(1, s.node_cpu_m // max(need, 1))
    wanted = math.ceil(len(pending) / per_node)
    adding = max(0, min(wanted, s.max_nodes - existing))
    cluster.node_count = existing + adding  # type: ignore[attr-defined]
    scale_up = first_try + s.autoscaler_delay
    if adding:
        cluster.at(scale_up, lambda: cluster._event(
            ns, "TriggeredScaleUp", f"pod triggered scale-up: [pool-a {existing}->"
            f"{existing + adding} (max: {s.max_nodes})]", pending[0], scale_up,
            "cluster-autoscaler"))
    new_free: dict[str, int] = {}
    for j in range(adding):
        node_name = f"node-{cluster.node_seq}"  # type: ignore[attr-defined]
        cluster.node_seq += 1  # type: ignore[attr-defined]
        node = cluster._node(node_name, scale_up, ready_at=None)
        cluster.at(scale_up, _put(cluster, node))
        if j >= adding - s.never_ready_nodes:
            continue
        ready_at[node_name] = scale_up + s.node_boot_delay
        cluster.at(ready_at[node_name], _node_becomes_ready(cluster, node, ready_at[node_name]))
        new_free[node_name] = s.node_cpu_m
    for pod in pending:
        node_name = _first_fit(new_free, need)
        if node_name:
            _place(cluster, pod, node_name, need)
            _run_pod(cluster, pod, node_name, scale_up + s.node_boot_delay + s.scheduler_delay)
    free.update(new_free)


def _place(cluster: FakeCluster, pod: dict[str, Any], node: str, need: int) -> None:
    cluster.placed[pod["metadata"]["name"]] = (node, need)  # type: ignore[attr-defined]


def release(cluster: FakeCluster, pod_name: str) -> None:
    """A deleted pod gives its CPU back to its node."""
    placed = getattr(cluster, "placed", {})
    node, need = placed.pop(pod_name, (None, 0))
    if node is not None and node in cluster.free_cpu:  # type: ignore[attr-defined]
        cluster.free_cpu[node] += need  # type: ignore[attr-defined]


def _put_while(cluster: FakeCluster, pod: dict[str, Any], dep: dict[str, Any]):
    """Create the pod unless its Deployment was deleted meanwhile."""
    snap = copy.deepcopy(pod)
    ns, name = dep["metadata"]["namespace"], dep["metadata"]["name"]

    def act() -> None:
        live = cluster.store.get("Deployment", ns, name)
        if live is not None and live["metadata"]["uid"] == dep["metadata"]["uid"]:
            cluster.store.put(copy.deepcopy(snap))
        else:
            release(cluster, snap["metadata"]["name"])
    return act


def scale_down_later(cluster: FakeCluster, at: float) -> None:
    """The cluster autoscaler removes added nodes that are empty at `at` (a real one waits
    scale_down_delay, ten minutes by default)."""
    def act() -> None:
        free = _free_capacity(cluster)
        used = {node for node, _ in cluster.placed.values()}  # type: ignore[attr-defined]
        for name in [n for n in free if n not in used and n not in cluster.initial_nodes]:
            node = cluster.store.get("Node", "", name)
            free.pop(name, None)
            cluster.node_ready_at.pop(name, None)  # type: ignore[attr-defined]
            cluster.node_count -= 1  # type: ignore[attr-defined]
            if node is not None:
                cluster.store.put(node, "DELETED")
    cluster.at(at, act)


def _put(cluster: FakeCluster, obj: dict[str, Any]):
    snap = copy.deepcopy(obj)
    return lambda: cluster.store.put(copy.deepcopy(snap))


def _pod(cluster: FakeCluster, dep: dict[str, Any], i: int, created: float) -> dict[str, Any]:
    tmpl = dep["spec"]["template"]
    dname = dep["metadata"]["name"]
    labels = dict(tmpl["metadata"].get("labels") or {}, **{"bakeoff-deployment": dname})
    rs = f"{dname}-7f9c6d5b8"
    meta = cluster._meta(f"{rs}-{i:05x}", created, dep["metadata"]["namespace"], labels=labels,
                         ownerReferences=[{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                           "name": rs, "uid": dep["metadata"]["uid"],
                                           "controller": True, "blockOwnerDeletion": True}])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": copy.deepcopy(tmpl["spec"]),
            "status": {"phase": "Pending", "qosClass": "Burstable", "conditions": []}}


def _condition(pod: dict[str, Any], ctype: str, status: str, at: float, **extra: str) -> None:
    conds = [c for c in pod["status"]["conditions"] if c["type"] != ctype]
    conds.append({"type": ctype, "status": status, "lastProbeTime": None,
                  "lastTransitionTime": rfc3339(at), **extra})
    pod["status"]["conditions"] = conds


def _unschedulable(cluster: FakeCluster, pod: dict, at: float, nodes: int, ns: str):
    def act() -> None:
        live = cluster.store.get("Pod", ns, pod["metadata"]["name"])
        if live is None:
            return
        msg = f"0/{nodes} nodes are available: {nodes} Insufficient cpu."
        _condition(live, "PodScheduled", "False", at, reason="Unschedulable", message=msg)
        cluster.store.put(live)
        cluster._event(ns, "FailedScheduling", msg, live, at, "default-scheduler", "Warning")
    return act


def _run_pod(cluster: FakeCluster, pod: dict, node: str, scheduled: float) -> None:
    s = cluster.script
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    initialized = scheduled + s.init_delay
    containers = initialized + s.pull_delay
    ready = containers + s.ready_delay

    def step(at: float, fn) -> None:
        def act() -> None:
            live = cluster.store.get("Pod", ns, name)
            if live is not None:
                fn(live, at)
                cluster.store.put(live)
        cluster.at(at, act)

    def bind(p: dict, at: float) -> None:
        p["spec"]["nodeName"] = node
        _condition(p, "PodScheduled", "True", at)
        cluster._event(ns, "Scheduled", f"Successfully assigned {ns}/{name} to {node}", p, at,
                       "default-scheduler")

    def init(p: dict, at: float) -> None:
        _condition(p, "Initialized", "True", at)
        _condition(p, "ContainersReady", "False", at, reason="ContainersNotReady")
        _condition(p, "Ready", "False", at, reason="ContainersNotReady")

    def started(p: dict, at: float) -> None:
        p["status"]["phase"] = "Running"
        _condition(p, "ContainersReady", "True", at)
        p["status"]["containerStatuses"] = [
            {"name": c["name"], "image": c["image"], "imageID": f"{c['image']}@sha256:0",
             "ready": s.ready_delay == 0, "restartCount": 0, "started": True,
             "state": {"running": {"startedAt": rfc3339(at)}}}
            for c in p["spec"]["containers"]]
        cluster._event(ns, "Started", "Started container", p, at, "kubelet")
        cluster.serving.container_started(p)

    def ready_fn(p: dict, at: float) -> None:
        _condition(p, "Ready", "True", at)
        cluster.serving.pod_ready(p)

    step(scheduled, bind)
    step(initialized, init)
    step(containers, started)
    step(ready, ready_fn)


def _node_becomes_ready(cluster: FakeCluster, node: dict, at: float):
    def act() -> None:
        live = cluster.store.get("Node", "", node["metadata"]["name"])
        if live is not None:
            live["status"]["conditions"] = [_node_ready(True, at)]
            cluster.store.put(live)
            cluster._event("default", "NodeReady", f"Node {node['metadata']['name']} status "
                           "is now: NodeReady", live, at, "kubelet")
    return act
