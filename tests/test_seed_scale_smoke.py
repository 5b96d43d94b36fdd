"""Smoke test of the seed-scale benchmark (bench.perf.seed_scale) with tiny numbers: it
creates its namespaces, runs Locust over two of them and hey, reports, and removes all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import requires_tools

ROOT = Path(__file__).parents[1]


@pytest.mark.integration
@requires_tools("ip", "nginx", "hey")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces")
def test_seed_scale_smoke(tmp_path):
    out = tmp_path / "seed.json"
    res = subprocess.run([sys.executable, "-m", "bench.perf.seed_scale", "--users", "20",
                          "--wait", "0.1-0.2", "--duration", "4", "--warmup", "1",
                          "--hey-workers", "4",
                          "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                         timeout=240, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads(out.read_text())
    b, h = data["bakeoff"], data["hey"]
    assert b["loadgen_hosts"] == ["loadgen", "loadgen-1"] and b["loadgen_processes"] == 2
    assert b["requests"] > 0 and b["p50"] > 0 and b["intervals_warmup"] >= 1
    # hey was asked for the rate Locust achieved (-c 4 x -q rate/4); 20 users waiting
    # 0.1-0.2 s send about 130 req/s, so hey's 3 s hold the 100 responses it needs for a p99
    assert h["rps"] > 0 and h["p99"] >= h["p50"] > 0
    assert "p50 difference" in res.stdout
    pid_tag = "bkperf"  # nothing left: no namespace of the benchmark remains
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert pid_tag not in left
