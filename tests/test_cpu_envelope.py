"""The CPU envelope is taken from the CPUs this process may use, not 0..N-1.

Run under `taskset -c 1` (a child process restricted to CPU 1): a 1-CPU site must run
its commands on CPU 1, and a 2-CPU site is a clear error naming the allowed set. Before
the fix the site was pinned to CPU 0, outside the allowed set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO, requires_tools

pytestmark = [requires_tools("taskset"), pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2 or 1 not in os.sched_getaffinity(0),
    reason="needs CPUs 0 and 1")]

_PROBE = r"""
import json, os, sys
from bench.preflight import check_prerequisites
from bench.scenarios import parse_campaign
from core.errors import PrerequisiteError
from stacks.local import LocalProvisioner

def campaign(cpus):
    return parse_campaign({"name": "aff", "sites": [{"name": "s", "provider": "local",
        "cpus": cpus, "hourly_usd": 0, "network": "loopback"}],
        "workloads": [{"name": "sysbench-cpu"}]})

out = {"allowed": sorted(os.sched_getaffinity(0))}
c = campaign(1)
p = LocalProvisioner()
out["plan"] = [r.detail for r in p.plan(c.sites[0], c)]
env = p.up(c.sites[0], c, "aff-test", 0)
try:
    res = env.client.executor.run(
        [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"], timeout=30)
    out["client"] = res.stdout.strip() or res.stderr.strip()
    out["notes_cpus"] = env.notes["cpus"]
finally:
    p.down(env)
try:
    check_prerequisites(campaign(2))
    out["too_many"] = None
except PrerequisiteError as e:
    out["too_many"] = str(e)
print(json.dumps(out))
"""


def test_site_uses_the_allowed_cpus_under_taskset():
    res = subprocess.run(["taskset", "-c", "1", sys.executable, "-c", _PROBE], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["allowed"] == [1]
    assert out["client"] == "[1]"
    assert out["notes_cpus"] == [1]
    assert out["plan"][0] == "CPUs 1"
    assert out["too_many"] is not None
    assert "cpus: 2" in out["too_many"] and "allowed CPU set: 1" in out["too_many"]
