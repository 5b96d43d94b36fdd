"""From a spike run's timeline and per-second latency to the time-to-scale figures.

Pure functions of recorded data (so `verify` and the tests recompute them). Inputs:
  timeline: rows [epoch s, desired replicas, ready replicas, Pending pods, Ready nodes,
            nodes], one a second (bench.k8s.time_to_scale.Sampler);
  seconds:  per load interval [epoch start, p99 ms or None, requests, errors] (the exact
            HDR of the requests *sent* in that second, http-load's per-interval data);
  spike_at: epoch s the spike began; hold_s: its length.
Derived, each in seconds after the spike (resolution: the 1-s sampling):
  hpa_scale_up_s   first sample with more desired replicas than before the spike;
  replicas_ready_s first sample with as many Ready replicas as the most desired;
  nodes_ready_s    first sample with as many Ready nodes as the most seen (only when
                   nodes were added: `new_nodes` says how many);
  time_to_scale_s  the start of the first second (after the spike began) from which
                   `stable_s` seconds in a row have p99 within the requirement and no
                   error, i.e. the service is back to its requirement; 0 when the spike
                   never pushed it out.
"""

from __future__ import annotations

from typing import Any

T, DESIRED, READY, PENDING, NODES_READY, NODES = range(6)


def _first(rows: list[list[float]], at: float, test: Any) -> float | None:
    return next((r[T] - at for r in rows if r[T] >= at and test(r)), None)


def derive(timeline: list[list[float]], seconds: list[list[Any]], spike_at: float,
           hold_s: float, requirement_ms: float, stable_s: int = 3) -> dict[str, Any]:
    before = [r for r in timeline if r[T] < spike_at]
    after = [r for r in timeline if r[T] >= spike_at]
    out: dict[str, Any] = {"reasons": []}
    if not before or not after:
        out["reasons"].append("the cluster timeline does not cover the spike")
        return out
    base_desired, base_nodes = before[-1][DESIRED], before[-1][NODES_READY]
    top_desired = max(r[DESIRED] for r in after)
    top_nodes = max(r[NODES_READY] for r in after)
    out["replicas_before"], out["max_replicas"] = base_desired, top_desired
    out["new_nodes"] = max(0.0, max(r[NODES] for r in after) - before[-1][NODES])
    out["hpa_scale_up_s"] = _first(after, spike_at, lambda r: r[DESIRED] > base_desired)
    if out["hpa_scale_up_s"] is None:
        out["reasons"].append(f"the HPA did not scale up during the spike (desired replicas "
                              f"stayed {base_desired:g})")
    else:
        out["replicas_ready_s"] = _first(after, spike_at, lambda r: r[READY] >= top_desired)
        if out["replicas_ready_s"] is None:
            out["reasons"].append(f"the replica target ({top_desired:g}) was never Ready")
    if top_nodes > base_nodes:
        out["nodes_ready_s"] = _first(after, spike_at, lambda r: r[NODES_READY] >= top_nodes)
    spike = [s for s in seconds if s[0] + 1 > spike_at and s[0] < spike_at + hold_s]
    out["spike_requests"] = float(sum(s[2] for s in spike))
    out["spike_errors"] = float(sum(s[3] for s in spike))
    p99s = [s[1] for s in spike if s[1] is not None]
    if p99s:
        out["spike_p99_peak_ms"] = max(p99s)

    def good(s: list[Any]) -> bool:
        return s[1] is not None and s[1] <= requirement_ms and s[3] == 0 and s[2] > 0

    for i in range(len(spike) - stable_s + 1):
        if all(good(s) for s in spike[i:i + stable_s]):
            out["time_to_scale_s"] = max(0.0, spike[i][0] - spike_at)
            break
    else:
        out["reasons"].append(f"p99 was not back within {requirement_ms:g} ms without errors "
                              f"for {stable_s} s in a row during the {hold_s:g}-s spike")
    return out
