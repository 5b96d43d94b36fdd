"""Peers on a cloud site talk over private addresses; the controller reaches the VMs over
their public ones (issue 24: every fake host used to be 127.0.0.1 for both, so a
provisioner that handed peers the public address went unnoticed).

The fake workspace with `network="netns"` (tests/cloud_fake_net.py) gives each host a
network namespace of its own, a private address on a bridge shared by the stack's hosts
(the VPC) and a public one on a /30 to the controller; its sshd listens on port 22 there.
A host has no route to another host's public address, so a workload sent to the public
address fails, as it would between VMs whose security group admits only the VPC.
"""

from __future__ import annotations

import ipaddress
import json
import sys

import pandas as pd
import pytest

from bench.orchestrator import Orchestrator
from bench.scenarios import parse_campaign
from bench.workloads.ping import Ping
from core.errors import BakeoffError
from stacks.cloud.provisioner import CloudProvisioner
from tests import cloud_fake_net
from tests.cloud_fake import FakeWorkspace, _running
from tests.conftest import requires_tools
from tests.sshd_support import needs_sshd

_NET_OK, _NET_WHY = cloud_fake_net.available()
pytestmark = [needs_sshd, pytest.mark.skipif(not _NET_OK, reason=_NET_WHY)]

CIDR = "10.42.0.0/16"  # the spec's default network_cidr (stacks/cloud/spec.py)


@pytest.fixture
def stacks(tmp_path):
    """The fake's stack root; whatever a test leaves there (namespaces, links, sshds) is
    removed after it, pass or fail, and a passing test must have left nothing."""
    root = tmp_path / "stacks"
    yield root
    left = cloud_fake_net.leftovers(root)
    cloud_fake_net.sweep(root)
    assert cloud_fake_net.leftovers(root) == []
    assert left == [], f"teardown left {left}"


def _campaign(loadgen: int = 1, workloads=()):
    return parse_campaign({"name": "addr", "repetitions": 1, "sites": [{
        "name": "a", "provider": "aws", "region": "us-east-1",
        "zones": ["us-east-1a", "us-east-1b"], "instance_type": "c6i.xlarge",
        "loadgen": loadgen, "ssh_cidr": "192.0.2.10/32"}], "workloads": list(workloads)},
        "test")


def _provisioner(tmp_path, ws):
    # the fake "VMs" run no cloud-init: their Python is this one
    return CloudProvisioner("aws", workspace=ws, state_root=tmp_path / "state",
                            detect_ip=lambda: None, ssh_deadline_s=60,
                            host_python=sys.executable)


def _ping(host, address: str):
    return host.executor.run(("ping", "-n", "-c", "2", "-i", "0.2", "-W", "1", address),
                             timeout=30)


def test_peers_reach_each_other_on_private_addresses_only(tmp_path, stacks):
    campaign = _campaign()
    ws = FakeWorkspace(stacks, network="netns")
    prov = _provisioner(tmp_path, ws)
    env = prov.up(campaign.sites[0], campaign, "addr1")
    try:
        stack = ws.stacks()[0]
        out = json.loads((stacks / f"{stack}.json").read_text())["outputs"]["hosts"]
        # expected by hand: one /24 of 10.42.0.0/16 per zone (server in the first zone,
        # client and load generator in the second), the first host at .4, the next .5
        assert {r: h["private_ip"] for r, h in out.items()} == {
            "server": "10.42.0.4", "client": "10.42.1.4", "loadgen-0": "10.42.1.5"}
        publics = [h["public_ip"] for h in out.values()]
        assert len(set(publics)) == 3
        assert all(ipaddress.ip_address(p) in cloud_fake_net.PUBLIC_POOL for p in publics)
        # the controller reached every host on its public address, port 22
        assert {h["ssh_port"] for h in out.values()} == {22}
        for host in env.hosts.values():
            assert host.executor.target.host == host.facts["public_ip"]

        # peers get the private address: the real ping workload from the client
        plan = Ping().plan(Ping.Params(count=3, interval_s=0.2), env)
        step = plan.captured
        res = env.client.executor.run(step.argv, timeout=step.timeout_s)
        assert res.ok, res.stdout + res.stderr
        parsed = Ping().parse(res.stdout)
        loss = {s.metric: s.value for s in parsed.samples}["packet_loss"]
        assert loss == 0.0 and f"from {out['server']['private_ip']}" in res.stdout
        # the load generator reaches the server, too, over the VPC
        assert _ping(env.hosts["loadgen"], out["server"]["private_ip"]).ok
        # ... and no host reaches another on its public address (no route there)
        blocked = _ping(env.client, out["server"]["public_ip"])
        assert not blocked.ok and "unreachable" in (blocked.stdout + blocked.stderr).lower()
        # each host sees only its own two addresses
        addrs = env.server.executor.run(("ip", "-o", "-4", "addr", "show"), timeout=30)
        assert out["server"]["private_ip"] in addrs.stdout
        assert out["server"]["public_ip"] in addrs.stdout
        assert out["client"]["private_ip"] not in addrs.stdout
        pids = json.loads((stacks / f"{stack}.json").read_text())["pids"]
    finally:
        prov.down(env)
        prov.down_site("addr1", "a")
    assert ws.stacks() == []
    assert not any(_running(p) for p in pids)
    assert cloud_fake_net.leftovers(stacks) == []


def test_a_failed_up_leaves_no_namespace_link_or_sshd(tmp_path, stacks):
    campaign = _campaign(loadgen=0)
    ws = FakeWorkspace(stacks, network="netns", fail_up={"a"})
    with pytest.raises(BakeoffError, match="quota exceeded"):
        _provisioner(tmp_path, ws).up(campaign.sites[0], campaign, "addr2")
    assert ws.stacks() == []
    assert cloud_fake_net.leftovers(stacks) == []
    assert not [p for p in _sshds(stacks) if _running(p)]


def _sshds(root) -> list[int]:
    out = []
    for p in root.glob("*/*/sshd.pid"):
        try:
            out.append(int(p.read_text()))
        except ValueError:
            continue
    return out


@requires_tools("iperf3")
def test_a_campaign_measures_between_peers_over_the_vpc(tmp_path, stacks):
    """The orchestrator's own path: ping and iperf3 (its server bound to the server's
    address, the client connecting to it) measured between namespaced hosts."""
    campaign = _campaign(loadgen=0, workloads=[
        {"name": "ping", "params": {"count": 5, "interval_s": 0.2}},
        {"name": "iperf3", "params": {"time_s": 1, "omit_s": 0}}])
    ws = FakeWorkspace(stacks, network="netns")
    orch = Orchestrator(campaign, tmp_path / "results", quiet=True,
                        provisioners={"aws": _provisioner(tmp_path, ws)})
    folder = orch.run(campaign_id="addr3")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {k: u["status"] for k, u in manifest["units"].items()} == {
        "a/ping/0": "ok", "a/iperf3/0": "ok"}, manifest["units"]
    samples = pd.read_parquet(folder / "samples.parquet")
    got = dict(zip(samples["metric"], samples["value"], strict=False))
    assert got["packet_loss"] == 0.0 and got["throughput"] > 0
    # iperf3's own record of the connection: client 10.42.1.4 -> server 10.42.0.4
    raw = folder / manifest["units"]["a/iperf3/0"]["raw"]
    conn = json.loads(raw.read_text())["start"]["connected"][0]
    assert (conn["local_host"], conn["remote_host"]) == ("10.42.1.4", "10.42.0.4")
    assert ws.stacks() == [] and cloud_fake_net.leftovers(stacks) == []


def test_the_out_of_process_fake_takes_the_network_knob(tmp_path, stacks):
    """`FakeAutomation(root, network="netns")`: the knob reaches the fake CLI through
    knobs.json; bakeoff's real worker and workspace drive it."""
    from tests.cloud_fake_engine import FakeAutomation

    campaign = _campaign(loadgen=0)
    prov = _provisioner(tmp_path, FakeAutomation(stacks, network="netns"))
    env = prov.up(campaign.sites[0], campaign, "addr4")
    try:
        assert (env.server.address, env.client.address) == ("10.42.0.4", "10.42.1.4")
        assert env.client.facts["public_ip"] != env.server.facts["public_ip"]
        assert _ping(env.client, env.server.address).ok
    finally:
        prov.down(env)
    assert cloud_fake_net.leftovers(stacks) == []
