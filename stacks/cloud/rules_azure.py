"""Azure rules: what Azure Resource Manager refuses that Pulumi mocks accept.

Names: https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
(the table per resource provider); tags: .../management/tag-resources#limitations.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from stacks.cloud import rules_k8s as k8s
from stacks.cloud.rules import Resource, Rule, Violation, password_classes, tag_map, text
from stacks.cloud.spec import CloudSiteSpec

NAMES_SRC = ("https://learn.microsoft.com/azure/azure-resource-manager/management/"
             "resource-name-rules")
TAGS_SRC = ("https://learn.microsoft.com/azure/azure-resource-manager/management/"
            "tag-resources#limitations")
PG_SRC = ("https://learn.microsoft.com/azure/postgresql/flexible-server/"
          "quickstart-create-server (server name, admin login, password)")
SIZES_SRC = ("https://learn.microsoft.com/azure/virtual-machines/vm-naming-conventions "
             "('s': premium storage, 'p': Arm-based processor)")
CUSTOM_DATA_SRC = "https://learn.microsoft.com/azure/virtual-machines/custom-data"

VM = "azure-native:compute:VirtualMachine"
DISK = "azure-native:compute:Disk"
SERVER = "azure-native:dbforpostgresql:Server"
NAME_PROPERTY = {
    "azure-native:resources:ResourceGroup": "resourceGroupName",
    "azure-native:network:NetworkSecurityGroup": "networkSecurityGroupName",
    "azure-native:network:VirtualNetwork": "virtualNetworkName",
    "azure-native:network:Subnet": "subnetName",
    "azure-native:network:PublicIPAddress": "publicIpAddressName",
    "azure-native:network:NetworkInterface": "networkInterfaceName",
    DISK: "diskName", VM: "vmName",
    "azure-native:privatedns:PrivateZone": "privateZoneName",
    "azure-native:privatedns:VirtualNetworkLink": "virtualNetworkLinkName",
    SERVER: "serverName", "azure-native:dbforpostgresql:Database": "databaseName",
}
# Resource providers the subscription must have registered for these resource types.
SERVICES = {"azure-native:compute:": "Microsoft.Compute",
            "azure-native:network:": "Microsoft.Network",
            "azure-native:privatedns:": "Microsoft.Network",
            "azure-native:dbforpostgresql:": "Microsoft.DBforPostgreSQL"}

# Network resources: alphanumerics, '_', '.', '-'; start alphanumeric; end alphanumeric or _
_NET = r"[A-Za-z0-9]([\w.-]*\w)?"
_RESERVED_LOGINS = {"azure_superuser", "azure_pg_admin", "admin", "administrator", "root",
                    "guest", "public"}
_SIZE = re.compile(r"Standard_([A-Z]+)(\d+)([a-z-]*)(?:_v(\d+))?")


def _tag_key(value: Any) -> str | None:
    if isinstance(value, str):
        if not 1 <= len(value) <= 512:
            return f"{len(value)} characters, allowed 1..512"
        bad = sorted(set(value) & set("<>%&\\?/"))
        if bad:
            return f"characters not allowed: {''.join(bad)!r}"
    return None


def _tag_value(value: Any) -> str | None:
    return f"{len(value)} characters, at most 256" if isinstance(value, str) and \
        len(value) > 256 else None


def _login(value: Any) -> str | None:
    if isinstance(value, str) and (value.lower() in _RESERVED_LOGINS
                                   or value.lower().startswith("pg_")):
        return "a reserved login name"
    return text(r"[A-Za-z][A-Za-z0-9_]*", 63)(value)


def _dns_zone(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    if not value.endswith(".postgres.database.azure.com"):
        return "a Flexible Server's private zone must end with .postgres.database.azure.com"
    for label in value.split("."):
        if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", label):
            return f"DNS label {label!r}: 1..63 of a-z 0-9 '-', no '-' at either end"
    return None


def _custom_data(value: Any) -> str | None:
    if isinstance(value, str):
        size = len(base64.b64decode(value))
        if size > 65535:
            return f"{size} bytes, at most 65535 before base64 encoding"
    return None


RULES = [
    Rule(("*",), "tags", tag_map(_tag_key, _tag_value, 50),
         "tags: at most 50; name 1..512 without < > % & \\ ? /; value at most 256", TAGS_SRC),
    Rule(("azure-native:resources:ResourceGroup",), "@name",
         text(r"[\w.()-]*[\w()-]", 90), "resource group: 1..90 of alphanumerics _ . ( ) -, "
         "not ending in '.'", NAMES_SRC),
    Rule(("azure-native:network:NetworkSecurityGroup", "azure-native:network:Subnet",
          "azure-native:network:PublicIPAddress", "azure-native:network:NetworkInterface",
          "azure-native:privatedns:VirtualNetworkLink"), "@name", text(_NET, 80),
         "network resource: 1..80 of alphanumerics _ . -, starting alphanumeric, ending "
         "alphanumeric or _", NAMES_SRC),
    Rule(("azure-native:network:VirtualNetwork",), "@name", text(_NET, 64, 2),
         "virtual network: 2..64 of alphanumerics _ . -", NAMES_SRC),
    Rule((DISK,), "@name", text(_NET, 80), "managed disk: 1..80 of alphanumerics _ . -",
         NAMES_SRC),
    Rule((VM,), "@name", text(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", 64),
         "Linux VM: 1..64, no spaces or ~!@#$%^&*()=+_[]{}\\|;:'\",<>/?, not ending in "
         "'.' or '-'", NAMES_SRC),
    Rule((VM,), "osProfile.computerName", text(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?", 64),
         "Linux host name: 1..64 letters, digits, hyphens", NAMES_SRC),
    Rule((VM,), "storageProfile.dataDisks[].caching",
         lambda v: None if v in (None, "None") else f"host caching {v}",
         "benchmark data disks without host caching (reads would come from the host's "
         "cache, not the disk)", "https://learn.microsoft.com/azure/virtual-machines/"
         "premium-storage-performance#disk-caching"),
    Rule((VM,), "osProfile.customData", _custom_data, "custom data: at most 64 KiB",
         CUSTOM_DATA_SRC),
    Rule(("azure-native:privatedns:PrivateZone",), "privateZoneName", _dns_zone,
         "private DNS zone of a Flexible Server", PG_SRC),
    Rule((SERVER,), "@name", text(r"[a-z0-9][a-z0-9-]*[a-z0-9]", 63, 3),
         "Flexible Server name: 3..63 lowercase letters, digits, hyphens; no hyphen at "
         "either end", PG_SRC),
    Rule((SERVER,), "administratorLogin", _login,
         "admin login: 1..63, first a letter, not azure_superuser, azure_pg_admin, admin, "
         "administrator, root, guest, public or pg_...", PG_SRC),
    Rule((SERVER,), "administratorLoginPassword", password_classes(8, 128, 3),
         "admin password: 8..128 characters from 3 of: upper case, lower case, digits, "
         "non-alphanumeric", PG_SRC),
    Rule(("azure-native:dbforpostgresql:Database",), "databaseName",
         text(r"[A-Za-z_][A-Za-z0-9_]*", 63), "database name: 1..63 letters, digits, _",
         PG_SRC),
]

RULES += k8s.AZURE_RULES  # cluster sites (stacks/cloud/rules_k8s.py)
NAME_PROPERTY.update(k8s.AZURE_NAMES)
SERVICES.update(k8s.AZURE_SERVICES)


def size_features(size: str) -> str:
    """'Standard_D2ps_v5' -> 'ps' (lower-case additive features of the size name)."""
    m = _SIZE.fullmatch(size)
    return m.group(3) if m else ""


def is_arm(size: str) -> bool:
    return "p" in size_features(size)


def site_rules(spec: CloudSiteSpec, resources: list[Resource]) -> list[Violation]:
    """Zones 1..3; premium disks only on 's' sizes; image architecture = size's; v6 sizes
    boot only with an NVMe disk controller; HA standby in another zone."""
    out = []
    disk_sku = {r.name: (r.properties.get("sku") or {}).get("name") for r in resources
                if r.type == DISK}
    for r in resources:
        p = r.properties
        for z in p.get("zones") or []:
            if z not in ("1", "2", "3"):
                out.append(Violation(r.name, r.type, "zones", z, "Azure zones are 1, 2, 3",
                                     "availability zone numbers", "https://learn.microsoft."
                                     "com/azure/reliability/availability-zones-overview"))
        if r.type != VM:
            continue
        size = str((p.get("hardwareProfile") or {}).get("vmSize", ""))
        storage = p.get("storageProfile") or {}
        own = disk_sku.get(f"{r.name}-data")
        if own and own.startswith(("Premium", "UltraSSD")) and "s" not in size_features(size):
            out.append(Violation(r.name, r.type, "hardwareProfile.vmSize", size,
                                 f"{own} disks need a premium-storage size (an 's' in the "
                                 "name)", "premium storage capable sizes", SIZES_SRC))
        sku = str((storage.get("imageReference") or {}).get("sku", ""))
        if sku and is_arm(size) != sku.endswith("arm64"):
            out.append(Violation(r.name, r.type, "storageProfile.imageReference.sku", sku,
                                 f"image architecture differs from {size}'s",
                                 "Arm sizes ('p') boot arm64 images, others x64", SIZES_SRC))
        if size.endswith("_v6") and storage.get("diskControllerType") != "NVMe":
            out.append(Violation(r.name, r.type, "storageProfile.diskControllerType",
                                 storage.get("diskControllerType"),
                                 f"{size} has only an NVMe disk controller",
                                 "v6 sizes need diskControllerType NVMe",
                                 "https://learn.microsoft.com/azure/virtual-machines/"
                                 "nvme-overview"))
    same_zone = spec.zones[0].rsplit("-", 1)[-1] == spec.zones[1].rsplit("-", 1)[-1]
    if spec.database is not None and spec.database.ha and same_zone:
        out.append(Violation("database", SERVER, "highAvailability.standbyAvailabilityZone",
                             spec.zones[1], "standby in the primary's zone",
                             "zone-redundant HA needs two zones", PG_SRC))
    return out
