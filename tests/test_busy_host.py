"""A noisy host is visible: a unit measured beside a CPU hog is flagged `busy`.

On this machine two campaigns at once once moved a 1-CPU site from 5,154 to 2,289
events/s with nothing flagged. Here two CPU hogs, started outside this process's tree
(as another campaign would be) and pinned to the site's CPU, run while the site measures
sysbench-cpu; the unit must carry the busy flag naming them, in the manifest, in
`bakeoff show` and in the report.
"""

from __future__ import annotations

import os
import time

from typer.testing import CliRunner

from bakeoff.cli import app
from bench.orchestrator import Orchestrator
from bench.results import load_results
from bench.scenarios import parse_campaign
from tests.conftest import requires_tools
from tests.hog_support import cpu_hogs as _cpu_hogs


def cpu_hogs(cpu: int, count: int = 2, tag: str = ""):
    """Busy loops pinned to `cpu` (tests/hog_support.py)."""
    return _cpu_hogs([cpu] * count, tag)


@requires_tools("taskset")
def test_unit_beside_a_cpu_hog_is_flagged_busy(tmp_path):
    from scoring.decide import score_campaign_dir

    site_cpu = sorted(os.sched_getaffinity(0))[0]  # a 1-CPU site runs on the first allowed
    campaign = parse_campaign({
        "name": "noisy", "repetitions": 1,
        "sites": [{"name": "one", "provider": "local", "cpus": 1, "hourly_usd": 0.01,
                   "network": "loopback"}],
        "workloads": [{"name": "sysbench-cpu", "params": {"time_s": 2}}],
        "criteria": [{"name": "cpu", "weight": 4}, {"name": "tco", "weight": 3}]})
    with cpu_hogs(site_cpu) as pids:
        folder = Orchestrator(campaign, tmp_path, quiet=True).run()
    unit = load_results(folder).manifest["units"]["one/sysbench-cpu/0"]
    assert unit["status"] == "ok"
    assert unit["busy"] is True, unit.get("host_load")
    assert "other processes used" in unit["busy_reason"]
    (local,) = unit["host_load"]
    assert local["loadavg_before"] and local["loadavg_after"]
    seen = {p["pid"] for p in local["other_processes"]}
    assert seen & set(pids), local  # the hogs are named, not our own processes
    assert os.getpid() not in seen

    show = CliRunner().invoke(app, ["show", str(folder)], env={"COLUMNS": "200"})
    assert show.exit_code == 0, show.output
    assert "BUSY one: host busy during 1 of 1 units (sysbench-cpu 1)" in show.output

    score_campaign_dir(folder)
    report = (folder / "report" / "report.md").read_text()
    assert "Measured on a busy host" in report and "one / sysbench-cpu / rep 0" in report
    assert 'id="busy-runs"' in (folder / "report" / "index.html").read_text()


@requires_tools("taskset")
def test_the_campaigns_own_daemons_are_not_other_work():
    """A process carrying the campaign's marker (its PostgreSQL) is not counted."""
    import uuid

    from bench.hostload import LocalWatch

    marker = f"bakeoff-own-{uuid.uuid4().hex}"
    cpu = sorted(os.sched_getaffinity(0))[-1]
    with cpu_hogs(cpu, count=1, tag=marker) as (pid,):
        mine, plain = LocalWatch(own_markers=(marker,)), LocalWatch()
        mine.start()
        plain.start()
        time.sleep(1.5)
        seen_mine = {p["pid"] for p in mine.stop()["other_processes"]}
        seen_plain = {p["pid"] for p in plain.stop()["other_processes"]}
    assert pid in seen_plain and pid not in seen_mine


def test_remote_probe_through_the_executor():
    """The shell probe used for remote hosts, run through a real executor."""
    from bench.hostload import RemoteWatch
    from core.environment import Host
    from stacks.executors.local import LocalExecutor

    watch = RemoteWatch(Host("server", "z", "127.0.0.1", LocalExecutor(), {}))
    watch.start()
    time.sleep(0.3)
    got = watch.stop()
    assert len(got["loadavg_before"]) == 3 and len(got["loadavg_after"]) == 3
    assert got["nproc"] >= 1 and got["steal_pct"] is not None and got["steal_pct"] >= 0
    assert got["processes_before"] and all(p["pid"] > 0 for p in got["processes_before"])
