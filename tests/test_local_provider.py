"""The local provider: namespaces joined by veth, pinning, and complete teardown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.scenarios import parse_campaign
from core.errors import PrerequisiteError
from stacks import netns
from stacks.local import LocalProvisioner
from tests.conftest import is_root, requires_tools


def campaign(network: str = "auto", cpus: int = 1):
    return parse_campaign({"name": "t", "sites": [
        {"name": "s", "provider": "local", "cpus": cpus, "hourly_usd": 0.01,
         "network": network}]})


@pytest.mark.skipif(not is_root, reason="network namespaces need root")
@requires_tools("ip")
def test_netns_pair_reachable_and_removed():
    """As root with iproute2 the namespace path is required: no silent loopback."""
    ok, why = netns.netns_available()
    assert ok, f"root with iproute2, yet network namespaces are unavailable: {why}"
    c = campaign("netns")
    prov = LocalProvisioner()
    env = prov.up(c.sites[0], c, "test-netns", index=201)
    try:
        assert env.network == "netns-veth"
        assert env.client.address == "198.18.201.1" and env.server.address == "198.18.201.2"
        assert env.client.zone != env.server.zone
        res = env.client.executor.run(["ping", "-c", "2", "-i", "0.05", env.server.address],
                                      timeout=10)
        assert res.ok, res.stderr
        assert " 0% packet loss" in res.stdout
        # the client namespace cannot see the host's interfaces
        links = env.client.executor.run(["ip", "-o", "link"], timeout=5).stdout
        assert "lo" in links and len(links.splitlines()) == 2
        assert prov.leftovers("test-netns")
        scratch = Path(env.client.facts["scratch_dir"])
        assert scratch.is_dir()
    finally:
        prov.down(env)
    assert prov.leftovers("test-netns") == []
    assert not scratch.exists()


def test_loopback_mode_and_pinning():
    c = campaign("loopback")
    prov = LocalProvisioner()
    env = prov.up(c.sites[0], c, "test-lo")
    try:
        assert env.network == "loopback" and env.server.address == "127.0.0.1"
        assert env.client.facts["vcpus"] == 1
        pinned = env.client.executor.run(
            ["python3", "-c", "import os; print(len(os.sched_getaffinity(0)))"], timeout=10)
        assert pinned.stdout.strip() == "1"
        free = env.hosts["loadgen"].executor.run(
            ["python3", "-c", "import os; print(len(os.sched_getaffinity(0)))"], timeout=10)
        assert int(free.stdout) >= 1
        assert env.notes["network_fallback_reason"] == "requested by the scenario"
    finally:
        prov.down(env)


def test_too_many_cpus_is_a_clear_error():
    c = campaign("loopback", cpus=512)
    with pytest.raises(PrerequisiteError, match="asks for cpus: 512"):
        LocalProvisioner().up(c.sites[0], c, "test-big")
