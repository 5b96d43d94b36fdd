"""Peers on a cloud site talk over private addresses; the controller reaches the VMs over
their public ones (issue 24: every fake host used to be 127.0.0.1 for both, so swapping
them went unnoticed).

The fake workspace (tests/cloud_fake.py) starts one real sshd per host on 127.0.0.1, the
"public" address the controller connects to. Here each host is also given its own
"private" address, 127.0.1.N: on Linux all of 127.0.0.0/8 is the loopback interface, so a
workload on the client can really reach the server at 127.0.1.N while SSH goes to
127.0.0.1. A provisioner that handed peers the public address would give 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.scenarios import parse_campaign
from stacks.cloud.provisioner import CloudProvisioner
from tests.cloud_fake import FakeWorkspace
from tests.sshd_support import needs_sshd

pytestmark = needs_sshd

PRIVATE = {"server": "127.0.1.10", "client": "127.0.1.20", "loadgen-0": "127.0.1.30"}
PUBLIC = "127.0.0.1"  # where the fake's sshds listen


class DistinctAddresses(FakeWorkspace):
    """The fake workspace, with each host's private address apart from its public one."""

    def up(self, stack, spec_file, passphrase_file, on_output, cancel=None):
        super().up(stack, spec_file, passphrase_file, on_output, cancel)
        path = Path(self.root) / f"{stack}.json"
        doc = json.loads(path.read_text())
        for role, host in doc["hosts"].items():
            assert host["public_ip"] == PUBLIC
            host["private_ip"] = PRIVATE[role]
        doc["outputs"]["hosts"] = doc["hosts"]
        path.write_text(json.dumps(doc))
        return doc["outputs"]


def test_peers_get_private_addresses_and_ssh_uses_public(tmp_path):
    campaign = parse_campaign({"name": "addr", "repetitions": 1, "sites": [{
        "name": "a", "provider": "aws", "region": "us-east-1",
        "zones": ["us-east-1a", "us-east-1b"], "instance_type": "c6i.xlarge",
        "loadgen": 1, "ssh_cidr": "192.0.2.10/32"}], "workloads": []}, "test")
    ws = DistinctAddresses(tmp_path / "stacks")
    prov = CloudProvisioner("aws", workspace=ws, state_root=tmp_path / "state",
                            detect_ip=lambda: None, ssh_deadline_s=30)
    env = prov.up(campaign.sites[0], campaign, "addr1")
    try:
        assert env.server.address == PRIVATE["server"]
        assert env.client.address == PRIVATE["client"]
        assert env.hosts["loadgen"].address == PRIVATE["loadgen-0"]
        for host in env.hosts.values():
            assert host.facts["public_ip"] == PUBLIC
        # a peer really reaches the server's private address (a real ping from the client)
        res = env.client.executor.run(("ping", "-n", "-c", "2", "-i", "0.2", "-W", "2",
                                       env.server.address), timeout=30)
        assert res.ok and f"from {PRIVATE['server']}" in res.stdout, res.stdout
    finally:
        prov.down(env)
        prov.down_site("addr1", "a")
    assert ws.stacks() == []
