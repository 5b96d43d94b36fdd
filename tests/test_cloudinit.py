"""cloud-init user-data: valid YAML that installs the tools and the pre-generated host key."""

from __future__ import annotations

import datetime as dt

import yaml

from bench.scenarios import parse_campaign
from stacks.cloud.cloudinit import SETUP_PATH, new_host_key, tools_cloud_init
from stacks.cloud.resolve import build_spec
from stacks.cloud.spec import SSH_USER
from stacks.cloud.userdata import user_data


def test_user_data_hands_over_the_host_key_tools_and_login_key():
    key = new_host_key("bko-test-server")
    assert key.public_openssh.startswith("ssh-ed25519 ")
    assert "OPENSSH PRIVATE KEY" in key.private_openssh
    campaign = parse_campaign({"name": "t", "sites": [
        {"name": "a", "provider": "aws", "region": "us-east-1", "zones": ["x", "y"],
         "instance_type": "c6i.large"}]}, "test")
    spec = build_spec(campaign.sites[0], campaign, "c", cidr="192.0.2.1/32",
                      ssh_public_key="ssh-ed25519 AAAAoperator op", host_keys={"server": key},
                      db_password="", cloud_init={"server": tools_cloud_init("bko-a-server")},
                      now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    text = user_data(spec, "server")
    assert text.startswith("#cloud-config\n")
    cfg = yaml.safe_load(text)
    assert cfg["ssh_keys"]["ed25519_private"] == key.private_openssh
    assert cfg["ssh_keys"]["ed25519_public"] == key.public_openssh
    assert cfg["ssh_genkeytypes"] == [] and cfg["ssh_deletekeys"] is True
    user = next(u for u in cfg["users"] if isinstance(u, dict))
    assert user["name"] == SSH_USER
    assert user["ssh_authorized_keys"] == ["ssh-ed25519 AAAAoperator op"]
    assert cfg["hostname"] == "bko-a-server"
    assert {"sysbench", "fio", "iperf3", "postgresql-client"} <= set(cfg["packages"])
    # pgbench comes with the server package; its service must not run beside the benchmarks
    assert "postgresql" in cfg["packages"]
    setup = next(f["content"] for f in cfg["write_files"] if f["path"] == SETUP_PATH)
    assert "systemctl disable --now postgresql" in setup and "/opt/bakeoff" in setup
    assert [SETUP_PATH] in cfg["runcmd"]
    assert new_host_key("other").public_openssh != key.public_openssh
