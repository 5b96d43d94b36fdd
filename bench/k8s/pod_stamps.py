"""k8s-pod-scale's samples as a pure function of the API server's stamps.

`stamps_of` keeps, from the watched objects, only what the samples are computed from: the
Deployment's creationTimestamp; per pod its creationTimestamp and the lastTransitionTime
of each condition that became True; per node created at or after the Deployment its
creationTimestamp and Ready transition. The workload writes them into its raw output
(format 2), and `samples_from_stamps` derives every duration sample from them, at run
time and again when the raw output is parsed, so `bakeoff verify` recomputes the samples
from first principles (the clock offset, measured from a Date header, is carried as
recorded). No kubernetes import: parsing needs no client.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from bench.samples import Sample

POD_CONDITIONS = (("PodScheduled", "scheduled"), ("Initialized", "initialized"),
                  ("ContainersReady", "containers_ready"), ("Ready", "ready"))
PERCENTILES = (50.0, 90.0, 99.0, 100.0)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: every value reported was observed)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


def _true_at(conditions: list[Any] | None, ctype: str) -> datetime | None:
    for c in conditions or []:
        if c.type == ctype and c.status == "True":
            return c.last_transition_time
    return None


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def stamps_of(pods: dict[str, Any], nodes: dict[str, Any], start: datetime) -> dict[str, Any]:
    """The stamps of the measured pods and of the nodes created at or after `start`."""
    return {
        "deployment_created": start.isoformat(),
        "pods": [{"name": o.metadata.name, "created": o.metadata.creation_timestamp.isoformat(),
                  "conditions": {ctype: _iso(_true_at(o.status and o.status.conditions, ctype))
                                 for ctype, _ in POD_CONDITIONS}}
                 for o in sorted(pods.values(), key=lambda o: o.metadata.name)],
        "nodes": [{"name": n.metadata.name, "created": n.metadata.creation_timestamp.isoformat(),
                   "ready": _iso(_true_at(n.status and n.status.conditions, "Ready"))}
                  for n in sorted(nodes.values(), key=lambda n: n.metadata.name)
                  if n.metadata.creation_timestamp >= start]}


def _t(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected an ISO 8601 time, got {value!r}")
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}: {value[:40]!r} is not an ISO 8601 time") from None
    if t.tzinfo is None:
        raise ValueError(f"{where}: {value!r} has no UTC offset")
    return t


def samples_from_stamps(stamps: dict[str, Any], meta: dict[str, Any]) -> list[Sample]:
    """Every duration sample and `new_nodes`, in the order the workload records them.
    Raises ValueError (naming the field) on a malformed stamp."""
    start = _t(stamps.get("deployment_created"), "deployment_created")
    pods, nodes = stamps.get("pods"), stamps.get("nodes")
    if not isinstance(pods, list) or not isinstance(nodes, list):
        raise ValueError("stamps: 'pods' and 'nodes' must be lists")
    created = [_t(p.get("created"), f"pods[{i}].created") for i, p in enumerate(pods)]
    out: list[Sample] = []
    for ctype, short in POD_CONDITIONS:
        lat = [(_t(c, f"pods[{i}].conditions.{ctype}") - created[i]).total_seconds()
               for i, p in enumerate(pods) if (c := (p.get("conditions") or {}).get(ctype))]
        for pct in PERCENTILES if lat else ():
            out.append(Sample(f"pod_{short}_s", percentile(lat, pct), "s",
                              dict(meta, percentile=pct, pods=len(lat))))
    ready = [_t(c, f"pods[{i}].conditions.Ready") for i, p in enumerate(pods)
             if (c := (p.get("conditions") or {}).get("Ready"))]
    if ready:
        out.append(Sample("time_to_all_pods_ready_s", (max(ready) - start).total_seconds(), "s",
                          dict(meta, pods_ready=len(ready))))
    node_ready = {}
    for i, n in enumerate(sorted(nodes, key=lambda n: str(n.get("name")))):
        if _t(n.get("created"), f"nodes[{i}].created") < start:
            raise ValueError(f"nodes[{i}]: created before the Deployment (not a new node)")
        if n.get("ready"):
            node_ready[str(n["name"])] = _t(n["ready"], f"nodes[{i}].ready")
            out.append(Sample("node_ready_s", (node_ready[str(n["name"])] - _t(
                n["created"], f"nodes[{i}].created")).total_seconds(), "s",
                dict(meta, node=str(n["name"]))))
    if node_ready:
        out.append(Sample("time_to_last_node_ready_s",
                          (max(node_ready.values()) - start).total_seconds(), "s",
                          dict(meta, nodes_ready=len(node_ready))))
    out.append(Sample("new_nodes", float(len(nodes)), "count", dict(meta)))
    return out
