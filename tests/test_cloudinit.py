"""cloud-init user-data: valid YAML that installs the tools and the pre-generated host key."""

from __future__ import annotations

import yaml

from stacks.cloud.cloudinit import new_host_key, user_data
from stacks.cloud.spec import SSH_USER


def test_user_data_hands_over_the_host_key_and_the_login_key():
    key = new_host_key("bko-test-server")
    assert key.public_openssh.startswith("ssh-ed25519 ")
    assert "OPENSSH PRIVATE KEY" in key.private_openssh
    text = user_data(key, "ssh-ed25519 AAAAoperator op", "bko-test-server")
    assert text.startswith("#cloud-config\n")
    cfg = yaml.safe_load(text)
    assert cfg["ssh_keys"]["ed25519_private"] == key.private_openssh
    assert cfg["ssh_keys"]["ed25519_public"] == key.public_openssh
    assert cfg["ssh_genkeytypes"] == [] and cfg["ssh_deletekeys"] is True
    (user,) = cfg["users"]
    assert user["name"] == SSH_USER
    assert user["ssh_authorized_keys"] == ["ssh-ed25519 AAAAoperator op"]
    assert cfg["ssh_pwauth"] is False
    assert {"sysbench", "fio", "iperf3", "postgresql-client"} <= set(cfg["packages"])
    assert new_host_key("other").public_openssh != key.public_openssh
