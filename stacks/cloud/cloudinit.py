"""The tools part of each VM's cloud-init, and the host keys generated in advance.

The static part lives in stacks/cloudinit/base.yaml (benchmark tools, PostgreSQL client,
a Python environment for the reference service and Locust, the data disk on /data). The
lifecycle puts it in `spec.cloud_init[role]`; every program then adds the login user and
the host's SSH host key with stacks/cloud/userdata.py. Host keys are generated here, on
the operator's machine, so the first connection is checked against a key bakeoff already
holds (no trust-on-first-use).
"""

from __future__ import annotations

from importlib import resources

import yaml

from stacks.cloud.spec import HostKey

# The interpreter of the venv base.yaml creates: the reference service, Locust and
# bakeoff's own modules (shipped by stacks/payload.py) run with it on every VM.
HOST_PYTHON = "/opt/bakeoff/bin/python"


def base_config() -> dict:
    return yaml.safe_load(resources.files("stacks").joinpath("cloudinit/base.yaml").read_text())


def tools_cloud_init(hostname: str) -> str:
    """`#cloud-config` installing the tools; userdata.user_data adds user and host key."""
    cfg = {"hostname": hostname, **base_config()}
    return "#cloud-config\n" + yaml.safe_dump(cfg, sort_keys=False, width=1000)


def new_host_key(comment: str) -> HostKey:
    """A fresh ed25519 key pair in OpenSSH format (asyncssh, already a dependency)."""
    from stacks.executors.ssh import require_asyncssh

    asyncssh = require_asyncssh()
    key = asyncssh.generate_private_key("ssh-ed25519", comment=comment)
    return HostKey(private_openssh=key.export_private_key("openssh").decode(),
                   public_openssh=key.export_public_key("openssh").decode().strip())
