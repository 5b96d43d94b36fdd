"""A stored campaign folder for the scoring tests, written through the real ResultStore.

Values are centred on what the tools measured on the development machine (2 cores, Debian 12):
sysbench cpu ≈ 3200 events/s per thread, stress-ng stream ≈ 10 GB/s, fio 4k randread ≈ 78k
IOPS with p99 0.34 ms, iperf3 over loopback ≈ 15 Gbit/s, ping over loopback ≈ 0.05 ms. Each
repetition gets a small seeded jitter. One fio repetition of "small" is invalid and one ping
unit of "large" failed, so the report's "excluded runs" table has something to show.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from bench.results import ResultStore
from bench.samples import SAMPLE_COLUMNS
from bench.scenarios import parse_campaign

SITES = {  # name -> (cpus, hourly_usd, performance factor)
    "small": (1, 0.0416, 1.0),
    "large": (2, 0.0832, 1.9),
    "medium": (2, 0.06, 1.5),
}

# workload, metric, unit, value for "small", scales with CPU?, lower is better?
BASE = [
    ("sysbench-cpu", "events_per_second", "events/s", 3200.0, True),
    ("stream", "read_bandwidth", "MB/s", 10_000.0, True),
    ("fio", "read_iops", "IOPS", 78_000.0, True),
    ("fio", "read_clat_p99", "ms", 0.34, False),
    ("iperf3", "throughput", "Gbit/s", 15.0, True),
    ("ping", "rtt_avg", "ms", 0.05, False),
    ("http-load", "latency_p99", "ms", 40.0, False),
]

CRITERIA = [
    {"name": "tco", "weight": 5},
    {"name": "price_performance", "weight": 3},
    {"name": "cpu", "weight": 4},
    {"name": "memory_bandwidth", "weight": 2},
    {"name": "disk_iops", "weight": 2},
    {"name": "network_latency", "weight": 3},
    {"name": "network_throughput", "weight": 2},
    {"name": "http_p99", "weight": 4},
    {"name": "sla", "weight": 3},
    {"name": "operability", "weight": 2, "label": "operability",
     "scores": {"small": 7, "large": 6, "medium": 7}},
]

REQUIREMENTS = [
    {"metric": "ping.rtt_avg", "operator": "<", "threshold": 2, "unit": "ms",
     "name": "inter-zone RTT < 2 ms"},
    {"metric": "fio.read_iops", "operator": ">=", "threshold": 15000},
    {"metric": "fio.read_clat_p99", "operator": "<", "threshold": 10, "unit": "ms"},
    {"metric": "http-load.latency_p99", "operator": "<", "threshold": 150, "unit": "ms"},
]


def scenario(sites: list[str], criteria: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    crit = []
    for c in CRITERIA if criteria is None else criteria:
        c = dict(c)
        if "scores" in c:
            c["scores"] = {s: v for s, v in c["scores"].items() if s in sites}
        crit.append(c)
    return {
        "name": "decide-fixture",
        "repetitions": 3,
        "sites": [{"name": s, "provider": "local", "cpus": SITES[s][0],
                   "hourly_usd": SITES[s][1]} for s in sites],
        "workloads": [{"name": w} for w in dict.fromkeys(b[0] for b in BASE)],
        "requirements": REQUIREMENTS,
        "criteria": crit,
    }


def _rows(campaign_id: str, sites: list[str], reps: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    rows = []
    for site in sites:
        cpus, _, factor = SITES[site]
        for workload, metric, unit, base, higher in BASE:
            for rep in range(reps):
                jitter = 1 + rng.normal(0, 0.02)
                value = base * (factor if higher else 1 / factor) * jitter
                meta = {"endpoint": "all"} if workload == "http-load" else {}
                valid = not (site == "small" and workload == "fio" and rep == 2)
                rows.append({
                    "campaign_id": campaign_id, "site": site, "provider": "local",
                    "region": "local", "zone": "local-a", "instance_type": None,
                    "workload": workload, "metric": metric, "value": float(value),
                    "unit": unit, "repetition": rep, "started_at": "2026-01-01T00:00:00Z",
                    "duration_s": 3.0, "valid": valid,
                    "invalid_reason": "" if valid else "fio reported errors in the job",
                    "params": "{}", "metadata": json.dumps(meta), "cpu_model": "fixture",
                    "vcpus": cpus, "kernel": "6.1", "tool_version": "fixture"})
                if workload == "http-load":  # a per-endpoint row that must not be scored
                    rows.append(dict(rows[-1], value=float(value) * 3,
                                     metadata=json.dumps({"endpoint": "checkout"})))
    return rows


def make_campaign(root: Path, sites: list[str] | None = None, reps: int = 3, seed: int = 1,
                  criteria: list[dict[str, Any]] | None = None,
                  campaign_id: str = "fixture-1") -> Path:
    """Write results/<campaign_id>/ with scenario.yaml, manifest.json and samples.parquet."""
    sites = sites or ["small", "large"]
    data = scenario(sites, criteria)
    campaign = parse_campaign(data, "fixture")
    store = ResultStore(root, campaign_id)
    units = {f"{s}/{w}/{r}": {"status": "ok"} for s in sites
             for w in dict.fromkeys(b[0] for b in BASE) for r in range(reps)}
    if "large" in sites:
        units["large/ping/3"] = {"status": "failed", "error": "ping: timed out after 60 s"}
    store.create(campaign, {"campaign_id": campaign_id, "scenario": campaign.name,
                            "status": "partial", "units": units,
                            "tool_versions": {"sysbench-cpu": "sysbench 1.0.20"},
                            "machine": {"cpus": 2}})
    frame = pd.DataFrame(_rows(campaign_id, sites, reps, seed), columns=list(SAMPLE_COLUMNS))
    frame.to_parquet(store.dir / "samples.parquet", index=False)
    (store.dir / "scenario.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return store.dir
