"""Which way is better for every metric bakeoff stores: the one declaration.

Scoring (the built-in criteria's bounds, `scoring.criteria`) and compare (`better`/`worse`)
both read it, so a metric cannot be "better" when rising in one and falling in the other.
A metric is keyed by (workload, metric) because a name alone can mean two things.
`neither` marks numbers that describe the load rather than the site (the target rate, the
load generator's own CPU, a fixed run time): compare reports their change without a verdict.
A test walks every workload's declared metrics and fails on one missing here.
"""

from __future__ import annotations

from typing import Literal

Direction = Literal["lower", "higher", "neither"]

_LATENCY = ("latency_p50", "latency_p95", "latency_p99", "latency_p999", "latency_mean")

DIRECTIONS: dict[str, dict[str, Direction]] = {
    "sysbench-cpu": {"events_per_second": "higher", "latency_avg": "lower",
                     "latency_p95": "lower", "total_time": "neither"},
    "sysbench-memory": {"throughput": "higher", "operations_per_second": "higher"},
    "stream": {"read_bandwidth": "higher", "write_bandwidth": "higher"},
    "fio": {f"{d}_{m}": v for d in ("read", "write")
            for m, v in (("iops", "higher"), ("bandwidth", "higher"), ("clat_p50", "lower"),
                         ("clat_p99", "lower"))},  # type: ignore[misc]
    "iperf3": {"throughput": "higher", "retransmits": "lower"},
    "ping": {"packet_loss": "lower", "rtt_min": "lower", "rtt_avg": "lower",
             "rtt_max": "lower", "rtt_mdev": "lower", "rtt_p99": "lower"},
    "http-load": {"requests": "neither", "rps": "higher", "error_rate": "lower",
                  **dict.fromkeys(_LATENCY, "lower"),  # type: ignore[dict-item]
                  "loadgen_cpu_peak": "neither", "loadgen_cpu_demand_peak": "neither",
                  "target_rps": "neither", "late_sends": "lower", "late_send_pct": "lower",
                  "server_db_query_count": "neither", "server_db_query_mean": "lower",
                  "server_db_query_p50": "lower", "server_db_query_p99": "lower"},
    "db-query": {"tps": "higher", "transactions": "neither", "failed_transactions": "lower",
                 **dict.fromkeys(_LATENCY, "lower")},  # type: ignore[dict-item]
    # The function measured and its `hello` baseline (prefix `baseline_`) alike: times are
    # better short; fewer cold starts in a burst, failures and throttles are better; how
    # many samples were taken describes the run.
    "cold-start": {f"{prefix}{m}": v for prefix in ("", "baseline_") for m, v in (
        *((f"{kind}_{p}", "lower") for kind in ("cold_start", "warm", "init")
          for p in ("p50", "p90", "p99")),
        ("cold_samples", "neither"), ("not_cold", "neither"), ("warm_samples", "neither"),
        ("burst_requests", "neither"), ("burst_cold_starts", "lower"),
        ("failures", "lower"), ("throttles", "lower"))}
    | {"burst_p50": "lower", "burst_p99": "lower"},  # type: ignore[dict-item]
    # Kubernetes: every duration is better short; counts describe the run, except errors.
    "k8s-pod-scale": {**dict.fromkeys(("pod_scheduled_s", "pod_initialized_s",
                                       "pod_containers_ready_s", "pod_ready_s", "node_ready_s",
                                       "time_to_all_pods_ready_s", "time_to_last_node_ready_s"),
                                      "lower"),  # type: ignore[dict-item]
                      "new_nodes": "neither", "clock_offset": "neither"},
    "k8s-time-to-scale": {**dict.fromkeys(("time_to_scale_s", "hpa_scale_up_s",
                                           "replicas_ready_s", "nodes_ready_s",
                                           "spike_p99_peak_ms", "spike_errors"),
                                          "lower"),  # type: ignore[dict-item]
                          **dict.fromkeys(("new_nodes", "max_replicas", "replicas_before",
                                           "spike_requests", "timeline_points"),
                                          "neither")},  # type: ignore[dict-item]
    # Time to ready of a cloud site (bench.orchestrator's `provisioning` samples).
    "provisioning": {"up_s": "lower", "ssh_ready_s": "lower", "cloud_init_s": "lower"},
}


def direction(workload: str, metric: str) -> Direction | None:
    """The declared direction, or None for a metric nobody declared (an older campaign)."""
    return DIRECTIONS.get(workload, {}).get(metric)


def improved(workload: str, metric: str, change: float) -> bool | None:
    """Whether a change of `change` is an improvement; None when there is no better side."""
    d = direction(workload, metric)
    if d == "lower":
        return change < 0
    if d == "higher":
        return change > 0
    return None
