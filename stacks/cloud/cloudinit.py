"""The tools part of each VM's cloud-init, and the host keys generated in advance.

The static part lives in stacks/cloudinit/base.yaml (benchmark tools, PostgreSQL client,
the data disk on /data, a Python environment for the reference service and Locust).
`tools_cloud_init` turns its `runcmd` steps into one script run with `set -eu`: the
first failing step stops the setup, cloud-init reports an error (the host is not used,
and its log is copied into the campaign's raw output by stacks/cloud/vmlog.py before
any destroy), and the ready marker is written only when every step succeeded. pip is
pinned to the controller's versions (stacks/cloud/pins.py). The lifecycle puts the
result in `spec.cloud_init[role]`; every program then adds the login user, the host's
SSH host key and the power-off at the TTL with stacks/cloud/userdata.py. Host keys are
generated here, on the operator's machine, so the first connection is checked against a
key bakeoff already holds (no trust-on-first-use).
"""

from __future__ import annotations

import shlex
from importlib import resources

import yaml

from stacks.cloud.spec import HostKey

# The interpreter of the venv base.yaml creates: the reference service, Locust and
# bakeoff's own modules (shipped by stacks/payload.py) run with it on every VM.
HOST_PYTHON = "/opt/bakeoff/bin/python"
SETUP_PATH = "/var/lib/bakeoff/setup.sh"
CONSTRAINTS_PATH = "/var/lib/bakeoff/constraints.txt"
READY_MARKER = "/var/lib/bakeoff/ready"
PLAN_CONSTRAINTS = "# the controller's versions of what the VM installs, written at run time\n"


def base_config() -> dict:
    return yaml.safe_load(resources.files("stacks").joinpath("cloudinit/base.yaml").read_text())


def pip_requirements(cfg: dict | None = None) -> list[str]:
    """The requirement specifiers of base.yaml's pip step."""
    step = next(c for c in (cfg or base_config())["runcmd"] if "install" in c)
    return [a for a in step[step.index("install") + 1:] if not a.startswith("-")]


def setup_script(steps: list[list[str]], ready: str = READY_MARKER) -> str:
    """One shell script: each step quoted as written, `set -eu` (stop at the first
    failure), pip pinned with the constraints file, the ready marker last."""
    lines = ["#!/bin/sh", "# bakeoff VM setup: stops at the first failing step", "set -eux"]
    for step in steps:
        argv = list(step)
        if len(argv) > 2 and argv[0].endswith("/pip") and argv[1] == "install":
            argv[2:2] = ["-c", CONSTRAINTS_PATH]
        lines.append(shlex.join(argv))
    lines.append(shlex.join(["touch", ready]))
    return "\n".join(lines) + "\n"


def tools_cloud_init(hostname: str, constraints: str | None = None) -> str:
    """`#cloud-config` installing the tools; userdata.user_data adds user, host key and
    the power-off. `constraints`: the pip constraints text (default: built from this
    controller's installed versions)."""
    from stacks.cloud.pins import constraints_text

    cfg = base_config()
    if constraints is None:
        constraints = constraints_text(pip_requirements(cfg))
    files = [*cfg.get("write_files", []),
             {"path": CONSTRAINTS_PATH, "permissions": "0644", "content": constraints},
             {"path": SETUP_PATH, "permissions": "0755",
              "content": setup_script(cfg["runcmd"])}]
    cfg = {"hostname": hostname, **cfg, "write_files": files, "runcmd": [[SETUP_PATH]]}
    return "#cloud-config\n" + yaml.safe_dump(cfg, sort_keys=False, width=1000)


def new_host_key(comment: str) -> HostKey:
    """A fresh ed25519 key pair in OpenSSH format (asyncssh, already a dependency)."""
    from stacks.executors.ssh import require_asyncssh

    asyncssh = require_asyncssh()
    key = asyncssh.generate_private_key("ssh-ed25519", comment=comment)
    return HostKey(private_openssh=key.export_private_key("openssh").decode(),
                   public_openssh=key.export_public_key("openssh").decode().strip())
