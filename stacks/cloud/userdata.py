"""The cloud-init user-data each VM boots with, the same on every provider.

It carries the host's pre-generated SSH host key (so the operator knows the fingerprint
before the first connection: no trust-on-first-use) and the login user with the campaign's
ephemeral public key. Whatever the lifecycle put in `spec.cloud_init[role]` (tool installs,
the reference service) is kept: a `#cloud-config` document is merged, anything else (a
shell script) runs once from `runcmd`.
"""

from __future__ import annotations

import yaml

from stacks.cloud.spec import SSH_USER, CloudSiteSpec

SCRIPT_PATH = "/var/lib/bakeoff/user-script"


def user_data(spec: CloudSiteSpec, role: str) -> str:
    """The `#cloud-config` document for one host (role or loadgen-N)."""
    base = spec.cloud_init.get(role, "")
    doc: dict = {}
    if base.lstrip().startswith("#cloud-config"):
        loaded = yaml.safe_load(base)
        doc = dict(loaded) if isinstance(loaded, dict) else {}
    elif base.strip():
        doc["write_files"] = [{"path": SCRIPT_PATH, "permissions": "0755", "content": base}]
        doc["runcmd"] = [[SCRIPT_PATH]]
    key = spec.host_keys.get(role)
    if key is not None:
        # Replace the image's generated keys with ours; only ed25519 is offered.
        doc["ssh_deletekeys"] = True
        doc["ssh_genkeytypes"] = []
        doc["ssh_keys"] = {"ed25519_private": key.private_openssh,
                           "ed25519_public": key.public_openssh}
    users = [u for u in doc.get("users", []) if not (isinstance(u, dict)
                                                     and u.get("name") == SSH_USER)]
    users.append({"name": SSH_USER, "shell": "/bin/bash", "sudo": "ALL=(ALL) NOPASSWD:ALL",
                  "ssh_authorized_keys": [spec.ssh_public_key]})
    doc["users"] = ["default", *[u for u in users if u != "default"]]
    return "#cloud-config\n" + yaml.safe_dump(doc, sort_keys=False, width=1000)
