"""cloud-init user-data per host: tools, the login user, and a host key known in advance.

The static part lives in stacks/cloudinit/base.yaml. Here each host gets its login user
(SSH_USER, the campaign's public key, passwordless sudo) and its SSH host key, generated on
the operator's machine (`new_host_key`): cloud-init installs it instead of generating
one, so the first connection is checked against a key bakeoff already holds
(no trust-on-first-use).
"""

from __future__ import annotations

from importlib import resources

import yaml

from stacks.cloud.spec import SSH_USER, HostKey


def base_config() -> dict:
    return yaml.safe_load(resources.files("stacks").joinpath("cloudinit/base.yaml").read_text())


def user_data(host_key: HostKey, ssh_public_key: str, hostname: str) -> str:
    """The `#cloud-config` document for one host."""
    cfg = base_config()
    cfg["hostname"] = hostname
    cfg["users"] = [{"name": SSH_USER, "shell": "/bin/bash", "sudo": "ALL=(ALL) NOPASSWD:ALL",
                     "ssh_authorized_keys": [ssh_public_key.strip()]}]
    cfg["ssh_pwauth"] = False
    cfg["ssh_deletekeys"] = True
    cfg["ssh_genkeytypes"] = []
    cfg["ssh_keys"] = {"ed25519_private": host_key.private_openssh,
                       "ed25519_public": host_key.public_openssh.strip()}
    return "#cloud-config\n" + yaml.safe_dump(cfg, sort_keys=False, width=1000)


def new_host_key(comment: str) -> HostKey:
    """A fresh ed25519 key pair in OpenSSH format (asyncssh, already a dependency)."""
    from stacks.executors.ssh import require_asyncssh

    asyncssh = require_asyncssh()
    key = asyncssh.generate_private_key("ssh-ed25519", comment=comment)
    return HostKey(private_openssh=key.export_private_key("openssh").decode(),
                   public_openssh=key.export_public_key("openssh").decode().strip())
