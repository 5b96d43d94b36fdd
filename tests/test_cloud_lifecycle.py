"""The cloud lifecycle with a fake Automation workspace whose hosts are real loopback sshds.

Everything but Pulumi itself is real: journal and secrets on disk, host keys generated and
handed over in advance, SSH readiness, host facts, the orchestrator's parallel lanes,
workloads over SSH, scoring, and teardown.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from bench.orchestrator import Orchestrator
from bench.scenarios import parse_campaign
from core.errors import BakeoffError
from stacks.cloud.provisioner import CloudProvisioner
from stacks.cloud.state import CampaignState
from tests.cloud_fake import FakeWorkspace
from tests.conftest import REPO
from tests.sshd_support import needs_sshd

pytestmark = needs_sshd


def _site(name: str, **extra):
    return {"name": name, "provider": "aws", "region": "us-east-1",
            "zones": ["us-east-1a", "us-east-1b"], "instance_type": "c6i.xlarge",
            "loadgen": 0, "ssh_cidr": "192.0.2.10/32", **extra}


def _campaign(*sites, workloads=(), **extra):
    return parse_campaign({"name": "cloudy", "repetitions": 1, "sites": list(sites),
                           "workloads": list(workloads), **extra}, "test")


def _provisioner(tmp_path, ws=None, **kw):
    ws = ws or FakeWorkspace(tmp_path / "stacks", **kw)
    return CloudProvisioner("aws", workspace=ws, state_root=tmp_path / "state",
                            detect_ip=lambda: None, ssh_deadline_s=30), ws


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _pids(ws: FakeWorkspace) -> list[int]:
    return [pid for stack in ws.stacks() for pid in json.loads(
        (ws.root / f"{stack}.json").read_text()).get("pids", [])]


def test_up_attach_on_resume_and_down_from_the_journal(tmp_path):
    campaign = _campaign(_site("a"))
    prov, ws = _provisioner(tmp_path)
    env = prov.up(campaign.sites[0], campaign, "c1")
    try:
        assert env.client.executor.run(("true",), timeout=30).ok
        assert env.client.zone == "us-east-1b" and env.server.zone == "us-east-1a"
        assert env.client.address == "127.0.0.1"  # peers use private addresses
        assert set(env.notes["provisioning"]) == {"up_s", "ssh_ready_s", "cloud_init_s"}
        assert env.notes["spot"] is False  # on-demand: failures are never called preemptions
        state = CampaignState("c1", tmp_path / "state")
        assert state.site_entry("a")["status"] == "up"
        for secret in (state.passphrase_file, state.ssh_key,
                       state.site_dir("a") / "secrets.json"):
            assert secret.stat().st_mode & 0o777 == 0o600
        pids = _pids(ws)
        # resume: a new provisioner (as in a new run) attaches instead of creating
        again, _ = _provisioner(tmp_path, ws)
        env2 = again.up(campaign.sites[0], campaign, "c1")
        assert [c[0] for c in ws.calls].count("up") == 1
        assert env2.server.executor.run(("true",), timeout=30).ok
        assert _pids(ws) == pids
        prov.down(env)
        again.down(env2)  # already destroyed: nothing to do, no error
    finally:
        prov.down_site("c1", "a")
    assert ws.stacks() == []
    assert not any(_alive(p) for p in pids)
    journal = CampaignState("c1", tmp_path / "state").journal()["sites"]["a"]
    assert journal["status"] == "destroyed"
    assert [e["status"] for e in journal["events"]] == ["creating", "up", "destroying",
                                                        "destroyed"]
    assert not (tmp_path / "state" / "campaigns" / "c1" / "id_ed25519").exists()


def test_failed_up_tears_down_what_it_created(tmp_path):
    campaign = _campaign(_site("a"))
    prov, ws = _provisioner(tmp_path, fail_up={"a"})
    with pytest.raises(BakeoffError, match="quota exceeded"):
        prov.up(campaign.sites[0], campaign, "c2")
    assert ws.stacks() == []
    events = [e["status"] for e in CampaignState("c2", tmp_path / "state")
              .journal()["sites"]["a"]["events"]]
    assert events == ["creating", "failed", "destroying", "destroyed"]


def test_locked_stack_is_cancelled_and_refreshed_before_destroy(tmp_path):
    campaign = _campaign(_site("a"))
    prov, ws = _provisioner(tmp_path, up_delay_s=30, lock_on_cancel=True, start_hosts=False)
    threading.Timer(0.5, prov.cancel.set).start()
    with pytest.raises(BakeoffError, match="interrupted"):
        prov.up(campaign.sites[0], campaign, "c3")
    ops = [c[0] for c in ws.calls]
    assert ops == ["up", "destroy", "cancel", "refresh", "destroy"]
    assert ws.stacks() == []


def test_sigint_during_up_tears_every_site_down(tmp_path):
    campaign = _campaign(_site("a"), _site("b"),
                         workloads=[{"name": "sysbench-cpu", "params": {"time_s": 1}}])
    prov, ws = _provisioner(tmp_path, up_delay_s=60, start_hosts=False)
    orch = Orchestrator(campaign, tmp_path / "results", quiet=True, provisioners={"aws": prov})
    def interrupt_once_both_are_up() -> None:  # preflight (provider rules) comes first
        deadline = time.monotonic() + 60
        while ws.max_active < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Thread(target=interrupt_once_both_are_up, daemon=True)
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        orch.run(campaign_id="c4")
    assert time.monotonic() - start < 50
    assert ws.max_active == 2  # both ups were in flight together
    assert ws.stacks() == []
    sites = CampaignState("c4", tmp_path / "state").journal()["sites"]
    assert {s: e["status"] for s, e in sites.items()} == {"a": "destroyed", "b": "destroyed"}
    manifest = json.loads((tmp_path / "results" / "c4" / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"


CRASH = """
import os, sys
sys.path.insert(0, {repo!r})
from bench.scenarios import parse_campaign
from stacks.cloud.provisioner import CloudProvisioner
from tests.cloud_fake import FakeWorkspace
c = parse_campaign({campaign!r}, "test")
p = CloudProvisioner("aws", workspace=FakeWorkspace({stacks!r}), state_root={state!r},
                     detect_ip=lambda: None, ssh_deadline_s=30)
env = p.up(c.sites[0], c, "c5")
print(" ".join(sorted({{h.facts["scratch_dir"] for h in env.hosts.values()}})), flush=True)
os._exit(3)  # crash: no teardown, connections and all left behind
"""
DESTROY = """
import sys
sys.path.insert(0, {repo!r})
from stacks.cloud.provisioner import CloudProvisioner
from tests.cloud_fake import FakeWorkspace
p = CloudProvisioner("aws", workspace=FakeWorkspace({stacks!r}), state_root={state!r})
p.down_site("c5", "a")
"""


def test_crashed_campaign_is_destroyed_from_a_new_process(tmp_path):
    fmt = {"repo": str(REPO), "stacks": str(tmp_path / "stacks"),
           "state": str(tmp_path / "state"),
           "campaign": {"name": "x", "sites": [_site("a")]}}
    crashed = subprocess.run([sys.executable, "-c", CRASH.format(**fmt)], cwd=REPO,
                             capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 3, crashed.stderr[-2000:]
    scratch = crashed.stdout.split()
    ws = FakeWorkspace(tmp_path / "stacks")
    pids = _pids(ws)
    assert ws.stacks() == ["c5--a"] and pids and all(_alive(p) for p in pids)
    done = subprocess.run([sys.executable, "-c", DESTROY.format(**fmt)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert ws.stacks() == []
    assert not any(_alive(p) for p in pids)
    assert CampaignState("c5", tmp_path / "state").site_entry("a")["status"] == "destroyed"
    # a real VM takes its scratch directory with it; the loopback "VMs" share this /tmp
    assert scratch and all(d.startswith("/tmp/bakeoff-a-") for d in scratch)
    for d in scratch:
        shutil.rmtree(d, ignore_errors=True)


def test_two_cloud_sites_side_by_side_through_the_whole_campaign(tmp_path):
    """Two sites provisioned at once; workloads over SSH in parallel lanes; scoring; one
    site's failing teardown is recorded and does not stop the other's."""
    from scoring.decide import score_campaign_dir

    campaign = _campaign(
        _site("a"), _site("b"),
        workloads=[{"name": "sysbench-cpu", "params": {"time_s": 1}},
                   {"name": "ping", "params": {"count": 5, "interval_s": 0.2}}],
        criteria=[{"name": "cpu", "weight": 4}, {"name": "tco", "weight": 3}])
    prov, ws = _provisioner(tmp_path, up_delay_s=1.0, fail_destroy={"b"})
    orch = Orchestrator(campaign, tmp_path / "results", quiet=True, provisioners={"aws": prov})
    try:
        folder = orch.run(campaign_id="c6")
        manifest = json.loads((folder / "manifest.json").read_text())
        assert ws.max_active == 2
        # every unit measured, but a stack is left: the run exits 13 (LEFT_BEHIND) on this
        # record, with the command that removes it (the CLI path: tests/faults)
        assert manifest["status"] == "complete", manifest
        assert manifest["left_behind"] == {"items": ["pulumi stack c6--b (b)"],
                                           "command": "bakeoff down c6"}
        assert "torn_down_at" in manifest["sites"]["a"]
        assert "destroy of c6--b failed" in manifest["sites"]["b"]["teardown_error"]
        assert ws.stacks() == ["c6--b"]
        import pandas as pd

        samples = pd.read_parquet(folder / "samples.parquet")
        assert set(samples["site"]) == {"a", "b"}
        assert set(samples["workload"]) == {"sysbench-cpu", "ping", "provisioning"}
        ready = samples.query("workload == 'provisioning' and metric == 'ssh_ready_s'")
        assert len(ready) == 2 and (ready["value"] >= 0).all()
        # both sites' sysbench units overlapped in time (same window)
        units = manifest["units"]
        a, b = units["a/sysbench-cpu/0"], units["b/sysbench-cpu/0"]
        assert a["started_at"] <= b["finished_at"] and b["started_at"] <= a["finished_at"]
        from scoring.summary import summary_lines

        assert summary_lines(score_campaign_dir(folder))
    finally:
        ws.fail_destroy.clear()
        prov.down_site("c6", "b")
    assert ws.stacks() == []


def test_sigint_reaches_the_whole_worker_group_out_of_process(tmp_path):
    """The real worker and a fake Pulumi CLI under it (tests/cloud_fake_engine.py): Ctrl-C
    must reach the CLI (it is in the worker's group), which cancels its 60 s update at
    once and releases the lock; then the stack is destroyed and no process is left."""
    from tests.cloud_cli import kill_strays
    from tests.cloud_fake_engine import FakeAutomation

    ws = FakeAutomation(tmp_path / "stacks", up_delay_s=60)
    prov = CloudProvisioner("aws", workspace=ws, state_root=tmp_path / "state",
                            detect_ip=lambda: None, ssh_deadline_s=30)
    campaign = _campaign(_site("a"), workloads=[{"name": "sysbench-cpu",
                                                 "params": {"time_s": 1}}])
    orch = Orchestrator(campaign, tmp_path / "results", quiet=True, provisioners={"aws": prov})

    def interrupt_once_the_vms_run() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
                json.loads(p.read_text()).get("pids") for p in ws.root.glob("c8--*.json")):
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_once_the_vms_run, daemon=True).start()
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            orch.run(campaign_id="c8")
        # the update was cancelled, not waited out (60 s), and nothing is left
        assert time.monotonic() - start < 45
        assert ws.stacks() == [] and ws.violations() == []
        assert not list((tmp_path / "state" / "campaigns" / "c8" / "workers").glob("*.json"))
    finally:
        kill_strays(tmp_path)
