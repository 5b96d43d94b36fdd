"""The cloud-init user-data each VM boots with, the same on every provider.

It carries the host's pre-generated SSH host key (so the operator knows the fingerprint
before the first connection: no trust-on-first-use) and the login user with the campaign's
ephemeral public key, and schedules the VM's own power-off at the campaign's TTL (on Azure
a guest power-off leaves the VM "Stopped", still billed for compute until deallocated or
deleted; on AWS and GCP a stopped instance bills its disks only). Whatever the lifecycle
put in `spec.cloud_init[role]` (tool installs, the reference service) is kept: a
`#cloud-config` document is merged, anything else (a shell script) runs once from
`runcmd`.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from stacks.cloud.spec import SSH_USER, CloudSiteSpec

SCRIPT_PATH = "/var/lib/bakeoff/user-script"
# A function site's server VM serves the downstream API the checkout function calls
# (bench/serverless/downstream.py, stdlib only: it starts before bakeoff's modules are
# shipped); the VM programs admit its port from the VPC CIDR only.
DOWNSTREAM_SOURCE = Path(__file__).resolve().parents[2] / "bench" / "serverless" / "downstream.py"
DOWNSTREAM_PATH = "/var/lib/bakeoff/downstream.py"
DOWNSTREAM_UNIT = "bakeoff-downstream.service"
# Minutes from boot to the expiry tag, at least 1: `shutdown -P +N` (systemd) powers off.
_POWEROFF = ('n=$(( ($(date -d "$1" +%s) - $(date +%s)) / 60 )); [ "$n" -ge 1 ] || n=1; '
             'shutdown -P "+$n" "bakeoff: campaign TTL ($1)"')


def poweroff_at_ttl(expires_at: str) -> list[str]:
    """The runcmd step that schedules the power-off at `expires_at` (ISO 8601)."""
    return ["sh", "-c", _POWEROFF, "sh", expires_at]


def downstream_service(port: int) -> tuple[list[dict], list[list[str]]]:
    """write_files and runcmd that run the downstream API as a systemd service on `port`
    (restarted if it dies; the system python3, no venv needed)."""
    unit = ("[Unit]\nDescription=bakeoff: the function site's downstream API\n"
            "After=network-online.target\n\n[Service]\n"
            f"ExecStart=/usr/bin/python3 {DOWNSTREAM_PATH} --address 0.0.0.0 --port {port}\n"
            "Restart=always\nDynamicUser=yes\n\n[Install]\nWantedBy=multi-user.target\n")
    files = [{"path": DOWNSTREAM_PATH, "permissions": "0644",
              "content": DOWNSTREAM_SOURCE.read_text()},
             {"path": f"/etc/systemd/system/{DOWNSTREAM_UNIT}", "permissions": "0644",
              "content": unit}]
    return files, [["systemctl", "daemon-reload"],
                   ["systemctl", "enable", "--now", DOWNSTREAM_UNIT]]


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
    # The VM powers itself off at the campaign's TTL even if nothing else is left to do it
    # (a killed controller, a failed destroy); first, so a failing setup cannot skip it.
    first = [poweroff_at_ttl(spec.expires_at)]
    if spec.function and role == "server":
        from stacks.cloud.fn_common import DOWNSTREAM_PORT

        files, steps = downstream_service(DOWNSTREAM_PORT)
        doc["write_files"] = [*doc.get("write_files", []), *files]
        first += steps  # before the tools setup: its failure must not leave checkout without
    doc["runcmd"] = [*first, *doc.get("runcmd", [])]
    users = [u for u in doc.get("users", []) if not (isinstance(u, dict)
                                                     and u.get("name") == SSH_USER)]
    users.append({"name": SSH_USER, "shell": "/bin/bash", "sudo": "ALL=(ALL) NOPASSWD:ALL",
                  "ssh_authorized_keys": [spec.ssh_public_key]})
    doc["users"] = ["default", *[u for u in users if u != "default"]]
    return "#cloud-config\n" + yaml.safe_dump(doc, sort_keys=False, width=1000)
