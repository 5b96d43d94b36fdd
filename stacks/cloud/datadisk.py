"""The data disk of a cloud host: checked before any unit, and where the scratch lives.

Every program gives each host a data disk of the scenario's type and size, and cloud-init
(stacks/cloudinit/base.yaml, mount-data) formats and mounts it at DATA_MOUNT. The
workloads' scratch directory (fio's files, the payload, the PoC's state) is created on it,
so fio measures the disk the scenario asked for and priced, never the boot disk. A host
whose data mount is missing, or sits on the root file system's device, fails the site
with that reason before any unit runs. The device, file system and mount go into the
host's facts (`scratch_disk`), and from there into the manifest entry of each fio unit.
"""

from __future__ import annotations

import shlex
from typing import Any

from core.errors import PrerequisiteError

DATA_MOUNT = "/data"
SCRATCH_NAME = "bakeoff-"

# $1: the mount, $2: the scratch name prefix. Exit 3: no usable data disk (reason on
# stdout); 4: mktemp failed. findmnt -P prints KEY="value" pairs.
_PROBE = r"""
m="$1"
mountpoint -q "$m" 2>/dev/null || { echo "reason=$m is not a mount point"; exit 3; }
root=$(findmnt -n -o SOURCE --target /)
src=$(findmnt -n -o SOURCE --target "$m")
[ "$src" != "$root" ] || { echo "reason=$m is on the root file system's device $root"; exit 3; }
d=$(mktemp -d "$m/$2XXXXXX") || exit 4
echo "scratch=$d"
findmnt -n -P -o SOURCE,FSTYPE,TARGET,SIZE --target "$d"
"""


def parse_probe(stdout: str) -> dict[str, str]:
    """'scratch=/data/x' and 'SOURCE="/dev/sdb" FSTYPE="ext4" ...' lines -> one mapping."""
    out: dict[str, str] = {}
    for line in stdout.splitlines():
        if line.startswith(("reason=", "scratch=")):  # free text to the end of the line
            key, _, value = line.partition("=")
            out[key] = value
            continue
        for word in shlex.split(line):
            key, sep, value = word.partition("=")
            if sep:
                out[key.lower()] = value
    return out


def data_scratch(site: str, role: str, executor: Any, mount: str = DATA_MOUNT,
                 timeout_s: float = 30) -> tuple[str, dict[str, str]]:
    """(scratch dir on the data disk, {device, fstype, mount, size}); raises
    PrerequisiteError naming the site, host and reason when the data disk is missing."""
    where = f"site '{site}', {role} host {getattr(executor, 'target', '')}".rstrip()
    res = executor.run(("sh", "-c", _PROBE, "sh", mount, f"{SCRATCH_NAME}{site}-{role}-"),
                       timeout=timeout_s)
    facts = parse_probe(res.stdout)
    if res.rc == 3:
        raise PrerequisiteError(f"{where}: the data disk is missing: {facts.get('reason')} "
                                "(cloud-init formats and mounts it; see "
                                "/var/log/cloud-init-output.log, copied to the campaign's "
                                "raw output)")
    scratch = facts.get("scratch", "")
    if not res.ok or not scratch.startswith(f"{mount.rstrip('/')}/"):
        raise PrerequisiteError(f"{where}: could not create a scratch directory under "
                                f"{mount}: rc {res.rc}, {res.stderr.strip()[:300]}")
    disk = {"device": facts.get("source", ""), "fstype": facts.get("fstype", ""),
            "mount": facts.get("target", ""), "size": facts.get("size", "")}
    return scratch, disk
