"""Azure program (pulumi-azure-native): one resource group holding a whole site.

Declares a VNet with a VM subnet (NSG: SSH from the operator's CIDR, all traffic inside
the VNet, nothing else) and, when a database is asked for, a subnet delegated to
PostgreSQL Flexible Server with a private DNS zone (VNet integration: the server has no
public endpoint). The server VM sits in the first zone, the client and load generators in
the second; each VM gets a Standard public IP for the operator's SSH and a static private
address for its peers. Only the submodules used are imported (the SDK is ~350 MB, but its
package root is lazy, so importing four submodules costs about a second).
"""

from __future__ import annotations

import base64
import ipaddress
import re

import pulumi
from pulumi_azure_native import compute, dbforpostgresql, network, privatedns, resources

from stacks.cloud.datadisk import DATA_MOUNT
from stacks.cloud.spec import SSH_USER, CloudSiteSpec, SiteSpecError
from stacks.cloud.userdata import user_data

# Marketplace reference of the current Ubuntu LTS; version "latest" is resolved by Azure
# at create time (the lookup), unless the scenario names an image.
UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server",
          "version": "latest"}
UBUNTU_ARM64_SKU = "server-arm64"
# Disk SKUs whose IOPS and throughput are provisioned apart from size.
IOPS_SKUS = ("PremiumV2_LRS", "UltraSSD_LRS")
# Azure managed disks are always encrypted at rest; we state the default explicitly.
DISK_ENCRYPTION = "EncryptionAtRestWithPlatformKey"
DB_TIERS = {"GP": "GeneralPurpose", "MO": "MemoryOptimized", "B": "Burstable"}
DB_DELEGATION = "Microsoft.DBforPostgreSQL/flexibleServers"


def az_zone(zone: str) -> str:
    """'westeurope-2' or '2' -> '2' (Azure names zones by number within the region)."""
    tail = zone.rsplit("-", 1)[-1]
    if not tail.isdigit():
        raise SiteSpecError(f"Azure zone {zone!r}: expected '1', '2' or '3' (or REGION-N)")
    return tail


def is_arm_size(size: str) -> bool:
    """A 'p' among the size's feature letters marks an Arm (Ampere/Cobalt) size:
    Standard_D2ps_v5 (https://learn.microsoft.com/azure/virtual-machines/vm-naming-conventions)."""
    m = re.fullmatch(r"Standard_[A-Z]+\d+([a-z-]*)(?:_v\d+)?", size)
    return bool(m and "p" in m.group(1))


def image_reference(spec: CloudSiteSpec, size: str = "") -> dict[str, str]:
    """Scenario image 'publisher:offer:sku:version' or a resource id; default Ubuntu LTS
    for the size's architecture (Canonical's arm64 SKU is 'server-arm64')."""
    if not spec.image:
        return {**UBUNTU, "sku": UBUNTU_ARM64_SKU} if is_arm_size(size) else dict(UBUNTU)
    if spec.image.startswith("/subscriptions/"):
        return {"id": spec.image}
    parts = spec.image.split(":")
    if len(parts) != 4:
        raise SiteSpecError(f"Azure image {spec.image!r}: expected publisher:offer:sku:version "
                         "or an image resource id")
    return dict(zip(("publisher", "offer", "sku", "version"), parts, strict=True))


def db_sku(instance_class: str) -> dict[str, str]:
    """'GP_Standard_D2ds_v5' -> name Standard_D2ds_v5, tier GeneralPurpose."""
    prefix, _, name = instance_class.partition("_")
    if prefix not in DB_TIERS or not name:
        raise SiteSpecError(f"Azure database class {instance_class!r}: expected "
                         "GP_|MO_|B_ followed by a SKU, e.g. GP_Standard_D2ds_v5")
    return {"name": name, "tier": DB_TIERS[prefix]}


def _subnets(spec: CloudSiteSpec) -> tuple[str, str]:
    """VM subnet and database subnet: the first two /24 of the site's network."""
    nets = ipaddress.ip_network(spec.network_cidr).subnets(new_prefix=24)
    return str(next(nets)), str(next(nets))


def _data_disk(spec: CloudSiteSpec, role: str, zone: str, rg: resources.ResourceGroup,
               tags: dict[str, str]) -> compute.Disk:
    d = spec.disk
    if d.iops is not None and d.type not in IOPS_SKUS:
        raise SiteSpecError(f"site {spec.site}: disk type {d.type} sets IOPS by size; "
                         f"provisioned IOPS need one of {', '.join(IOPS_SKUS)}")
    extra = {}
    if d.type in IOPS_SKUS:
        extra = {"disk_iops_read_write": d.iops, "disk_m_bps_read_write": d.throughput_mbps}
    return compute.Disk(
        spec.resource_name(f"{role}-data"), resource_group_name=rg.name,
        location=spec.region, zones=[zone], sku={"name": d.type},
        disk_size_gb=d.size_gb, creation_data={"create_option": "Empty"},
        encryption={"type": DISK_ENCRYPTION}, tags=tags,
        **{k: v for k, v in extra.items() if v is not None})


def _vm(spec: CloudSiteSpec, role: str, index: int, rg: resources.ResourceGroup,
        subnet: network.Subnet, tags: dict[str, str]) -> dict[str, pulumi.Input]:
    zone = az_zone(spec.zone_of(role))
    size = spec.instance_type if role in ("server", "client") else spec.loadgen_instance_type
    private_ip = str(ipaddress.ip_network(subnet_cidr(spec)).network_address + 10 + index)
    pip = network.PublicIPAddress(
        spec.resource_name(f"{role}-ip"), resource_group_name=rg.name, location=spec.region,
        sku={"name": "Standard"}, public_ip_allocation_method="Static", zones=[zone],
        tags=tags)
    nic = network.NetworkInterface(
        spec.resource_name(f"{role}-nic"), resource_group_name=rg.name, location=spec.region,
        ip_configurations=[{"name": "primary", "primary": True, "subnet": {"id": subnet.id},
                            "private_ip_allocation_method": "Static",
                            "private_ip_address": private_ip,
                            "public_ip_address": {"id": pip.id}}],
        # Accelerated networking (SR-IOV) is how production VMs run; iperf3 and ping
        # without it would measure the software path, which AWS (ENA) never uses.
        enable_accelerated_networking=True, tags=tags)
    disk = _data_disk(spec, role, zone, rg, tags)
    spot = {"priority": "Spot", "eviction_policy": "Delete",
            "billing_profile": {"max_price": -1}} if spec.spot else {}
    ultra = ({"additional_capabilities": {"ultra_ssd_enabled": True}}
             if spec.disk.type == "UltraSSD_LRS" else {})
    # a secret: the host's private key is in it (encrypted in the checkpoint)
    custom = pulumi.Output.secret(base64.b64encode(user_data(spec, role).encode()).decode())
    vm = compute.VirtualMachine(
        spec.resource_name(role), resource_group_name=rg.name, location=spec.region,
        zones=[zone], hardware_profile={"vm_size": size},
        storage_profile={
            "image_reference": image_reference(spec, size),
            # v6 sizes have only an NVMe disk controller; the default (SCSI) is refused
            **({"disk_controller_type": "NVMe"} if size.endswith("_v6") else {}),
            # StandardSSD_LRS boots every size (Premium needs an 's' size); fio uses the
            # data disk.
            "os_disk": {"create_option": "FromImage", "delete_option": "Delete",
                        "managed_disk": {"storage_account_type": "StandardSSD_LRS"}},
            "data_disks": [{"lun": 0, "create_option": "Attach", "caching": "None",
                            "managed_disk": {"id": disk.id}}]},
        os_profile={
            "computer_name": f"bko-{role}", "admin_username": SSH_USER,
            "custom_data": custom,
            "linux_configuration": {
                "disable_password_authentication": True,
                "ssh": {"public_keys": [{"path": f"/home/{SSH_USER}/.ssh/authorized_keys",
                                         "key_data": spec.ssh_public_key}]}}},
        network_profile={"network_interfaces": [{"id": nic.id, "primary": True}]},
        tags=tags, **spot, **ultra,
        opts=pulumi.ResourceOptions(additional_secret_outputs=["osProfile"]))
    image = vm.storage_profile.apply(_image_used)
    return {"private_ip": private_ip, "public_ip": pip.ip_address,
            "zone": spec.zone_of(role), "instance_type": size, "data_mount": DATA_MOUNT,
            "id": vm.vm_id, "image": image, "market": "spot" if spec.spot else "on-demand"}


def _image_used(profile) -> str | None:
    """'Canonical:ubuntu-24_04-lts:server:24.04.202611250': exact_version is the version
    Azure resolved 'latest' to at create time."""
    ref = getattr(profile, "image_reference", None) if profile is not None else None
    if ref is None:
        return None
    if getattr(ref, "id", None):
        return ref.id
    parts = [getattr(ref, k, None) for k in ("publisher", "offer", "sku")]
    version = getattr(ref, "exact_version", None) or getattr(ref, "version", None)
    return ":".join(str(p) for p in [*parts, version])


def subnet_cidr(spec: CloudSiteSpec) -> str:
    return _subnets(spec)[0]


def _database(spec: CloudSiteSpec, rg: resources.ResourceGroup, vnet: network.VirtualNetwork,
              vm_subnet: network.Subnet, tags: dict[str, str]
              ) -> tuple[dict[str, pulumi.Input], network.Subnet]:
    db = spec.database
    assert db is not None
    # Subnets of one VNet one after the other: concurrent subnet writes on a VNet are
    # answered with AnotherOperationInProgress (and deleted in reverse order at destroy).
    db_subnet = network.Subnet(
        spec.resource_name("db-subnet"), resource_group_name=rg.name,
        virtual_network_name=vnet.name, address_prefix=_subnets(spec)[1],
        delegations=[{"name": "postgres", "service_name": DB_DELEGATION}],
        opts=pulumi.ResourceOptions(depends_on=[vm_subnet]))
    zone = privatedns.PrivateZone(
        spec.resource_name("db-dns"), resource_group_name=rg.name, location="global",
        private_zone_name=f"bko-{spec.site_label}.private.postgres.database.azure.com", tags=tags)
    link = privatedns.VirtualNetworkLink(
        spec.resource_name("db-dns-link"), resource_group_name=rg.name, location="global",
        private_zone_name=zone.name, virtual_network={"id": vnet.id},
        registration_enabled=False, tags=tags)
    ha = ({"mode": "ZoneRedundant", "standby_availability_zone": az_zone(spec.zones[1])}
          if db.ha else {"mode": "Disabled"})
    password = pulumi.Output.secret(db.password)
    server = dbforpostgresql.Server(
        spec.resource_name("db"), resource_group_name=rg.name, location=spec.region,
        version=db.engine_version, sku=db_sku(db.instance_class),
        storage={"storage_size_gb": db.storage_gb},
        administrator_login=db.username,
        administrator_login_password=password,
        availability_zone=az_zone(spec.zones[0]), high_availability=ha,
        network={"delegated_subnet_resource_id": db_subnet.id,
                 "private_dns_zone_arm_resource_id": zone.id,
                 "public_network_access": "Disabled"},
        tags=tags, opts=pulumi.ResourceOptions(depends_on=[link]))
    dbforpostgresql.Database(spec.resource_name("dbname"), resource_group_name=rg.name,
                             server_name=server.name, database_name=db.dbname)
    return {"host": server.fully_qualified_domain_name, "port": 5432, "user": db.username,
            "dbname": db.dbname, "kind": "azure-flexible", "password": password,
            "zone": server.availability_zone, "id": server.id}, db_subnet


def _downstream_rule(spec: CloudSiteSpec) -> list[dict]:
    """A function site: the downstream API on the server (stacks/cloud/userdata.py), from
    the VNet only (the app's integration subnet is in it; never the internet)."""
    if not spec.function:
        return []
    from stacks.cloud.fn_common import DOWNSTREAM_PORT

    return [{"name": "fn-downstream", "priority": 105, "direction": "Inbound",
             "access": "Allow", "protocol": "Tcp", "source_address_prefix": spec.network_cidr,
             "source_port_range": "*", "destination_address_prefix": "*",
             "destination_port_range": str(DOWNSTREAM_PORT)}]


def program(spec: CloudSiteSpec) -> dict:
    """Declare the site and export hosts, database, network and region. Returns the
    network parts a cluster program (k8s_azure.py) or a function
    program (fn_azure.py) builds on (`last_subnet`: a new
    subnet of the VNet is declared after it, see _database)."""
    tags = spec.tags()
    rg = resources.ResourceGroup(spec.resource_name("rg"), location=spec.region, tags=tags)
    nsg = network.NetworkSecurityGroup(
        spec.resource_name("nsg"), resource_group_name=rg.name, location=spec.region,
        security_rules=[
            {"name": "ssh-operator", "priority": 100, "direction": "Inbound",
             "access": "Allow", "protocol": "Tcp", "source_address_prefix": spec.operator_cidr,
             "source_port_range": "*", "destination_address_prefix": "*",
             "destination_port_range": "22"},
            {"name": "intra-vnet", "priority": 110, "direction": "Inbound", "access": "Allow",
             "protocol": "*", "source_address_prefix": spec.network_cidr,
             "source_port_range": "*", "destination_address_prefix": spec.network_cidr,
             "destination_port_range": "*"},
            *_downstream_rule(spec),
            {"name": "deny-internet", "priority": 4000, "direction": "Inbound",
             "access": "Deny", "protocol": "*", "source_address_prefix": "Internet",
             "source_port_range": "*", "destination_address_prefix": "*",
             "destination_port_range": "*"}],
        tags=tags)
    vnet = network.VirtualNetwork(
        spec.resource_name("vnet"), resource_group_name=rg.name, location=spec.region,
        address_space={"address_prefixes": [spec.network_cidr]}, tags=tags)
    subnet = network.Subnet(
        spec.resource_name("subnet"), resource_group_name=rg.name,
        virtual_network_name=vnet.name, address_prefix=subnet_cidr(spec),
        network_security_group={"id": nsg.id})
    hosts = {role: _vm(spec, role, i, rg, subnet, tags) for i, role in enumerate(spec.roles)}
    pulumi.export("hosts", hosts)
    database, last = _database(spec, rg, vnet, subnet, tags) if spec.database else (None, subnet)
    pulumi.export("database", database)
    pulumi.export("network", {"cidr": spec.network_cidr, "vnet": vnet.name,
                              "resource_group": rg.name})
    pulumi.export("region", spec.region)
    return {"rg": rg, "vnet": vnet, "subnet": subnet, "last_subnet": last, "hosts": hosts,
            "database": database}
