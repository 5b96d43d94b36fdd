"""GCP rules: what Compute Engine and Cloud SQL refuse that Pulumi mocks accept."""

from __future__ import annotations

import re
from typing import Any

from core.provider_facts import GCP_ARM_SERIES, GCP_HYPERDISK_ONLY
from stacks.cloud import rules_k8s as k8s
from stacks.cloud.rules import Resource, Rule, Violation, tag_map, text
from stacks.cloud.spec import CloudSiteSpec

NAMES_SRC = "https://cloud.google.com/compute/docs/naming-resources#resource-name-format"
LABELS_SRC = "https://cloud.google.com/compute/docs/labeling-resources#requirements"
SQL_SRC = ("https://cloud.google.com/sql/docs/postgres/create-instance (instance ID) and "
           "https://cloud.google.com/sql/docs/postgres/instance-settings (custom tiers)")
DISKS_SRC = ("https://cloud.google.com/compute/docs/disks#disk-types and the machine series "
             "pages (supported disk types; read 2026-12)")
ARM_SRC = "https://cloud.google.com/compute/docs/instances/arm-on-compute"
GVNIC_SRC = "https://cloud.google.com/compute/docs/networking/using-gvnic"

INSTANCE = "gcp:compute/instance:Instance"
DISK = "gcp:compute/disk:Disk"
SQL = "gcp:sql/databaseInstance:DatabaseInstance"
NAME_PROPERTY = {"gcp:sql/database:Database": "name", "gcp:sql/user:User": "name"}
SERVICES = {"gcp:compute/": "compute.googleapis.com", "gcp:sql/": "sqladmin.googleapis.com",
            "gcp:servicenetworking/": "servicenetworking.googleapis.com"}

# Machine series that attach only Hyperdisk (no pd-*), and series that need gVNIC.
HYPERDISK_ONLY = GCP_HYPERDISK_ONLY
GVNIC_ONLY = ("c3", "c3d", "c4", "c4a", "c4d", "n4", "n4a", "n4d", "h3", "a3", "x4")
ARM_SERIES = GCP_ARM_SERIES
_LABEL_KEY = r"[a-z][a-z0-9_-]*"
_LABEL_VALUE = r"[a-z0-9_-]*"


def series(machine_type: str) -> str:
    return machine_type.split("-", 1)[0]


def _custom_tier(value: Any) -> str | None:
    """db-custom-<vCPUs>-<MiB>: 1 or an even number of vCPUs up to 96; memory a multiple
    of 256 MiB, 0.9..6.5 GiB per vCPU and at least 3.75 GiB."""
    m = re.fullmatch(r"db-custom-(\d+)-(\d+)", str(value))
    if not m:
        return None
    cpus, mib = int(m.group(1)), int(m.group(2))
    if cpus != 1 and (cpus % 2 or cpus > 96):
        return f"{cpus} vCPUs: 1 or an even number up to 96"
    if mib % 256 or mib < 3840 or not 0.9 * 1024 * cpus <= mib <= 6.5 * 1024 * cpus:
        return f"{mib} MiB for {cpus} vCPU: multiple of 256, >= 3840, 0.9..6.5 GiB per vCPU"
    return None


_labels = tag_map(text(_LABEL_KEY, 63), text(_LABEL_VALUE, 63, 0), 64)
_LABEL_TEXT = ("labels: at most 64; keys 1..63 of a-z 0-9 _ - starting with a letter; "
               "values 0..63 of a-z 0-9 _ -")

NAMED = (*(f"gcp:compute/{t}" for t in (
    "network:Network", "subnetwork:Subnetwork", "firewall:Firewall", "address:Address",
    "globalAddress:GlobalAddress", "disk:Disk", "instance:Instance")), SQL, *k8s.GCP_NAMED)

RULES = [
    Rule(NAMED, "@name", text(r"[a-z]([-a-z0-9]*[a-z0-9])?", 63),
         "resource name: 1..63 of a-z 0-9 '-', first a letter, last not '-'", NAMES_SRC),
    Rule(("*",), "labels", _labels, _LABEL_TEXT, LABELS_SRC),
    Rule((INSTANCE,), "bootDisk.initializeParams.labels", _labels, _LABEL_TEXT, LABELS_SRC),
    Rule((SQL,), "settings.userLabels", _labels, _LABEL_TEXT, LABELS_SRC),
    Rule((INSTANCE,), "tags[]", text(r"[a-z]([-a-z0-9]*[a-z0-9])?", 63),
         "network tag: 1..63 of a-z 0-9 '-'", NAMES_SRC),
    Rule(("*",), "description", text(r"(?s).*", 2048, 0), "description: at most 2048",
         NAMES_SRC),
    Rule((INSTANCE,), "metadata.user-data", text(r"(?s).*", 256 * 1024, 0),
         "metadata value: at most 256 KB",
         "https://cloud.google.com/compute/docs/metadata/setting-custom-metadata#limitations"),
    Rule((SQL,), "settings.tier", _custom_tier, "Cloud SQL custom machine type", SQL_SRC),
    Rule(("gcp:sql/database:Database",), "@name", text(r"[A-Za-z_][A-Za-z0-9_]*", 63),
         "PostgreSQL database name: 1..63 letters, digits, _", SQL_SRC),
    Rule(("gcp:sql/user:User",), "@name", text(r"[A-Za-z_][A-Za-z0-9_]*", 63),
         "PostgreSQL user: 1..63 letters, digits, _", SQL_SRC),
]

RULES += k8s.GCP_RULES  # cluster sites (stacks/cloud/rules_k8s.py)
NAME_PROPERTY.update(k8s.GCP_NAMES)
SERVICES.update(k8s.GCP_SERVICES)


def site_rules(spec: CloudSiteSpec, resources: list[Resource]) -> list[Violation]:
    """Zones in the region; disk types the machine series attaches; image architecture =
    machine's; gVNIC where the series has no other NIC."""
    out = []
    disk_type = {r.name: r.properties.get("type") for r in resources if r.type == DISK}
    for r in resources:
        p = r.properties
        zone = p.get("zone")
        if isinstance(zone, str) and zone.rsplit("-", 1)[0] != spec.region:
            out.append(Violation(r.name, r.type, "zone", zone,
                                 f"not a zone of region {spec.region}", "zone = region-x",
                                 "https://cloud.google.com/compute/docs/regions-zones"))
        if r.type != INSTANCE:
            continue
        mtype = str(p.get("machineType", ""))
        s = series(mtype)
        boot = ((p.get("bootDisk") or {}).get("initializeParams") or {})
        types = {"bootDisk.initializeParams.type": boot.get("type"),
                 "attachedDisks (data disk type)": disk_type.get(f"{r.name}-data")}
        for where, dtype in types.items():
            if s in HYPERDISK_ONLY and isinstance(dtype, str) and dtype.startswith("pd-"):
                out.append(Violation(r.name, r.type, where, dtype,
                                     f"{s} machines attach only Hyperdisk; set the site's "
                                     "disk_type to hyperdisk-balanced",
                                     "disk types per machine series", DISKS_SRC))
        image = str(boot.get("image", ""))
        if "amd64" in image or "arm64" in image:
            arm = s in ARM_SERIES
            if arm != ("arm64" in image):
                out.append(Violation(r.name, r.type, "bootDisk.initializeParams.image", image,
                                     f"image architecture differs from {mtype}'s",
                                     "Arm series (t2a, c4a) boot arm64 images", ARM_SRC))
        nics = p.get("networkInterfaces") or [{}]
        if s in GVNIC_ONLY and nics[0].get("nicType") != "GVNIC":
            out.append(Violation(r.name, r.type, "networkInterfaces[0].nicType",
                                 nics[0].get("nicType"), f"{s} machines need gVNIC",
                                 "gVNIC-only series", GVNIC_SRC))
    return out
