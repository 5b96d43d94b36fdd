"""GCP program (pulumi-gcp): a custom-mode VPC holding a whole site.

Firewall rules let SSH in from the operator's CIDR and any traffic between the site's own
addresses; GCP's implied rules deny all other ingress. The server runs in the first zone,
the client and load generators in the second. Each VM gets a static external address for
the operator and a fixed internal address for its peers. The optional Cloud SQL instance
has a private IP only, reached through private services access (a reserved peering range
and a Service Networking connection). Firewalls, networks and subnetworks take no labels
in GCP, so they carry the same four tags in their description (what gc reads); everything
else carries the four bakeoff labels.
"""

from __future__ import annotations

import ipaddress

import pulumi
from pulumi_gcp import compute, servicenetworking, sql

from core.provider_facts import GCP_ARM_SERIES, GCP_HYPERDISK_ONLY
from stacks.cloud.datadisk import DATA_MOUNT
from stacks.cloud.gc_common import tags_as_description
from stacks.cloud.spec import SSH_USER, CloudSiteSpec, SiteSpecError
from stacks.cloud.userdata import user_data

# The image family resolves to the newest Ubuntu LTS image when the instance is created.
UBUNTU_FAMILY = "ubuntu-os-cloud/ubuntu-2404-lts-{arch}"
# Arm machine series (https://cloud.google.com/compute/docs/instances/arm-on-compute) and
# series that attach only Hyperdisk, boot disk included (machine series pages).
ARM_SERIES, HYPERDISK_ONLY = GCP_ARM_SERIES, GCP_HYPERDISK_ONLY
# Disk types whose IOPS (and for hyperdisk, throughput) are provisioned apart from size.
IOPS_TYPES = ("pd-extreme", "hyperdisk-extreme", "hyperdisk-balanced")
THROUGHPUT_TYPES = ("hyperdisk-balanced", "hyperdisk-throughput")


def default_image(machine_type: str) -> str:
    arm = machine_type.split("-", 1)[0] in ARM_SERIES
    return UBUNTU_FAMILY.format(arch="arm64" if arm else "amd64")


def boot_disk_type(machine_type: str) -> str:
    return ("hyperdisk-balanced" if machine_type.split("-", 1)[0] in HYPERDISK_ONLY
            else "pd-balanced")


def region_of_zone(zone: str) -> str:
    return zone.rsplit("-", 1)[0]


def _subnet_cidr(spec: CloudSiteSpec) -> str:
    return str(next(ipaddress.ip_network(spec.network_cidr).subnets(new_prefix=24)))


def _disk(spec: CloudSiteSpec, role: str, zone: str, labels: dict[str, str]) -> compute.Disk:
    d = spec.disk
    if d.iops is not None and d.type not in IOPS_TYPES:
        raise SiteSpecError(f"site {spec.site}: disk type {d.type} sets IOPS by size; "
                         f"provisioned IOPS need one of {', '.join(IOPS_TYPES)}")
    extra: dict[str, int] = {}
    if d.iops is not None:
        extra["provisioned_iops"] = d.iops
    if d.throughput_mbps is not None and d.type in THROUGHPUT_TYPES:
        extra["provisioned_throughput"] = d.throughput_mbps
    # No disk_encryption_key: Google-managed encryption at rest, always on.
    return compute.Disk(spec.resource_name(f"{role}-data"), zone=zone, type=d.type,
                        size=d.size_gb, labels=labels, **extra)


def _instance(spec: CloudSiteSpec, role: str, index: int, subnet: compute.Subnetwork,
              labels: dict[str, str]) -> dict[str, pulumi.Input]:
    zone = spec.zone_of(role)
    size = spec.instance_type if role in ("server", "client") else spec.loadgen_instance_type
    private_ip = str(ipaddress.ip_network(_subnet_cidr(spec)).network_address + 10 + index)
    address = compute.Address(spec.resource_name(f"{role}-ip"), region=spec.region,
                              address_type="EXTERNAL", network_tier="PREMIUM", labels=labels)
    disk = _disk(spec, role, zone, labels)
    scheduling: dict[str, object] = {"automatic_restart": True,
                                     "on_host_maintenance": "MIGRATE"}
    if spec.spot:
        scheduling = {"provisioning_model": "SPOT", "preemptible": True,
                      "automatic_restart": False, "on_host_maintenance": "TERMINATE",
                      "instance_termination_action": "DELETE"}
    vm = compute.Instance(
        spec.resource_name(role), zone=zone, machine_type=size, labels=labels,
        boot_disk={"auto_delete": True,
                   "initialize_params": {"image": spec.image or default_image(size),
                                         "size": 20, "type": boot_disk_type(size),
                                         "labels": labels}},
        attached_disks=[{"source": disk.id, "device_name": "data"}],
        # gVNIC (Google's virtual NIC) on the default Ubuntu image, as production runs.
        network_interfaces=[{"subnetwork": subnet.id, "network_ip": private_ip,
                             "access_configs": [{"nat_ip": address.address}],
                             **({} if spec.image else {"nic_type": "GVNIC"})}],
        # a secret: the host's private key is in the user-data (encrypted in the checkpoint)
        metadata=pulumi.Output.secret({"user-data": user_data(spec, role),
                                       "ssh-keys": f"{SSH_USER}:{spec.ssh_public_key}",
                                       "block-project-ssh-keys": "true"}),
        scheduling=scheduling, tags=["bakeoff"], allow_stopping_for_update=True,
        opts=pulumi.ResourceOptions(additional_secret_outputs=["metadata"]))
    # the boot disk's source image as GCP resolved the family at create time
    image = vm.boot_disk.apply(lambda b: getattr(getattr(b, "initialize_params", None),
                                                 "image", None) if b else None)
    return {"private_ip": private_ip, "public_ip": address.address, "zone": zone,
            "instance_type": size, "data_mount": DATA_MOUNT, "id": vm.instance_id,
            "image": image, "market": "spot" if spec.spot else "on-demand"}


def _database(spec: CloudSiteSpec, net: compute.Network,
              labels: dict[str, str]) -> dict[str, pulumi.Input]:
    db = spec.database
    assert db is not None
    peering = compute.GlobalAddress(spec.resource_name("sql-range"), purpose="VPC_PEERING",
                                    address_type="INTERNAL", prefix_length=20,
                                    network=net.id, labels=labels)
    # Deleting the connection is refused while Cloud SQL still uses it (it may for a while
    # after the instance is gone); REMOVE_PEERING then removes the VPC peering itself, so
    # the network can be deleted (pulumi-gcp servicenetworking.Connection deletion_policy).
    conn = servicenetworking.Connection(
        spec.resource_name("sql-peering"), network=net.id,
        service="servicenetworking.googleapis.com", reserved_peering_ranges=[peering.name],
        deletion_policy="REMOVE_PEERING")
    edition = "ENTERPRISE_PLUS" if db.instance_class.startswith("db-perf") else "ENTERPRISE"
    location = {"zone": spec.zones[0]}
    if db.ha:
        location["secondary_zone"] = spec.zones[1]
    instance = sql.DatabaseInstance(
        spec.resource_name("sql"), region=spec.region,
        database_version=f"POSTGRES_{db.engine_version}", deletion_protection=False,
        settings={
            "tier": db.instance_class, "edition": edition,
            "availability_type": "REGIONAL" if db.ha else "ZONAL",
            "disk_size": db.storage_gb, "disk_type": "PD_SSD",
            "user_labels": labels,
            "location_preference": location,
            # Regional HA needs backups with point-in-time recovery on PostgreSQL.
            "backup_configuration": {"enabled": db.ha,
                                     "point_in_time_recovery_enabled": db.ha},
            "ip_configuration": {"ipv4_enabled": False, "private_network": net.id,
                                 "ssl_mode": "ENCRYPTED_ONLY"}},
        opts=pulumi.ResourceOptions(depends_on=[conn]))
    password = pulumi.Output.secret(db.password)
    # Both go with the instance; deleting them first fails once the benchmarks created
    # tables the user owns ("role ... cannot be dropped"), so they are abandoned (pulumi-gcp
    # sql.User / sql.Database deletion_policy ABANDON).
    sql.Database(spec.resource_name("sql-db"), instance=instance.name, name=db.dbname,
                 deletion_policy="ABANDON")
    sql.User(spec.resource_name("sql-user"), instance=instance.name, name=db.username,
             password=password, deletion_policy="ABANDON")
    # the zone Cloud SQL runs the primary in (it moves it on a failover)
    zone = instance.settings.apply(lambda s: getattr(getattr(s, "location_preference", None),
                                                     "zone", None) if s else None)
    return {"host": instance.private_ip_address, "port": 5432, "user": db.username,
            "dbname": db.dbname, "kind": "cloudsql", "password": password, "zone": zone,
            "id": instance.name}


def program(spec: CloudSiteSpec) -> dict:
    """Declare the site and export hosts, database, network and region. Returns the
    network parts a cluster program (k8s_gcp.py) or a function program
    (fn_gcp.py) builds on."""
    for zone in spec.zones:
        if region_of_zone(zone) != spec.region:
            raise SiteSpecError(f"site {spec.site}: zone {zone} is not in region {spec.region}")
    labels = spec.labels()
    described = tags_as_description(labels)
    net = compute.Network(spec.resource_name("net"), auto_create_subnetworks=False,
                          description=described)
    subnet = compute.Subnetwork(spec.resource_name("subnet"), network=net.id,
                                description=described,
                                region=spec.region, ip_cidr_range=_subnet_cidr(spec),
                                private_ip_google_access=True)
    compute.Firewall(spec.resource_name("ssh"), network=net.id, direction="INGRESS",
                     description=described,
                     source_ranges=[spec.operator_cidr], target_tags=["bakeoff"],
                     allows=[{"protocol": "tcp", "ports": ["22"]}])
    compute.Firewall(spec.resource_name("internal"), network=net.id, direction="INGRESS",
                     description=described,
                     source_ranges=[spec.network_cidr],
                     allows=[{"protocol": "tcp"}, {"protocol": "udp"}, {"protocol": "icmp"}])
    if spec.function:  # the downstream API on the server (userdata.py), from the VPC only
        from stacks.cloud.fn_common import DOWNSTREAM_PORT

        compute.Firewall(spec.resource_name("fn-downstream"), network=net.id,
                         direction="INGRESS", description=described,
                         source_ranges=[spec.network_cidr], target_tags=["bakeoff"],
                         allows=[{"protocol": "tcp", "ports": [str(DOWNSTREAM_PORT)]}])
    hosts = {role: _instance(spec, role, i, subnet, labels)
             for i, role in enumerate(spec.roles)}
    pulumi.export("hosts", hosts)
    database = _database(spec, net, labels) if spec.database else None
    pulumi.export("database", database)
    pulumi.export("network", {"cidr": spec.network_cidr, "vpc": net.name})
    pulumi.export("region", spec.region)
    return {"net": net, "subnet": subnet, "labels": labels, "described": described,
            "hosts": hosts, "database": database}
