"""The AWS program (pulumi-aws): a VPC across two zones, the site's VMs, optional RDS.

A pure declaration over a CloudSiteSpec, so the same function runs under Pulumi mocks
(`bakeoff plan`, tests) and under the Automation API (real runs). Every taggable resource
carries the four bakeoff tags, which is what `bakeoff gc` looks for.

Layout: server in the first zone, client and load generators in the second; SSH only
from the operator's CIDR; any traffic inside the VPC (iperf3, ping, HTTP, PostgreSQL) so
peers talk over private addresses; encrypted EBS; RDS never publicly accessible.
"""

from __future__ import annotations

import ipaddress
import re

import pulumi
import pulumi_aws as aws

from stacks.cloud.datadisk import DATA_MOUNT
from stacks.cloud.spec import CloudSiteSpec
from stacks.cloud.userdata import user_data

# Canonical's AWS account: the owner of the official Ubuntu images.
CANONICAL_OWNER = "099720109477"
UBUNTU_NAME = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-{arch}-server-*"
DATA_DEVICE = "/dev/sdf"
MARKET = {True: "spot", False: "on-demand"}
ROOT_GB = 20


def arch_of(instance_type: str) -> str:
    """Graviton families carry a 'g' after the generation digit (c7g, m6gd, t4g): arm64."""
    family = instance_type.split(".", 1)[0]
    return "arm64" if re.fullmatch(r"[a-z]+\d+g[a-z]*", family) else "amd64"


def _subnet_cidrs(network_cidr: str) -> tuple[str, str]:
    """The first two /24s of the VPC: one per zone."""
    subnets = ipaddress.ip_network(network_cidr).subnets(new_prefix=24)
    return str(next(subnets)), str(next(subnets))


def _downstream_ingress(spec: CloudSiteSpec) -> list:
    """A function site: the downstream API on the server (stacks/cloud/userdata.py), from
    the VPC only (the Lambda's private subnets are in it; never the internet)."""
    if not spec.function:
        return []
    from stacks.cloud.fn_common import DOWNSTREAM_PORT

    return [aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=DOWNSTREAM_PORT,
                                             to_port=DOWNSTREAM_PORT,
                                             cidr_blocks=[spec.network_cidr],
                                             description="the function downstream API (VPC only)")]


def program(spec: CloudSiteSpec) -> dict:
    """Declare the site; exports hosts, database, network and region (see spec.py).
    Returns the parts a cluster program (k8s_aws.py) or a function program (fn_aws.py)
    builds on."""
    tags = spec.tags()
    provider = aws.Provider(spec.resource_name("aws"), region=spec.region)
    opts = pulumi.ResourceOptions(provider=provider)

    def named(suffix: str) -> dict[str, str]:
        return {**tags, "Name": spec.resource_name(suffix)}

    vpc = aws.ec2.Vpc(spec.resource_name("vpc"), cidr_block=spec.network_cidr,
                      enable_dns_hostnames=True, enable_dns_support=True,
                      tags=named("vpc"), opts=opts)
    igw = aws.ec2.InternetGateway(spec.resource_name("igw"), vpc_id=vpc.id, tags=named("igw"),
                                  opts=opts)
    routes = aws.ec2.RouteTable(
        spec.resource_name("rt"), vpc_id=vpc.id,
        routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
        tags=named("rt"), opts=opts)
    subnets = {}
    for i, (zone, cidr) in enumerate(zip(spec.zones, _subnet_cidrs(spec.network_cidr),
                                         strict=True)):
        subnet = aws.ec2.Subnet(spec.resource_name(f"subnet-{i}"), vpc_id=vpc.id,
                                cidr_block=cidr, availability_zone=zone,
                                map_public_ip_on_launch=True, tags=named(f"subnet-{i}"),
                                opts=opts)
        aws.ec2.RouteTableAssociation(spec.resource_name(f"rta-{i}"), subnet_id=subnet.id,
                                      route_table_id=routes.id, opts=opts)
        subnets[zone] = subnet

    sg = aws.ec2.SecurityGroup(
        spec.resource_name("sg"), vpc_id=vpc.id,
        description="bakeoff: SSH from the operator, anything inside the VPC",
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=22, to_port=22,
                                             cidr_blocks=[spec.operator_cidr],
                                             description="SSH from the operator"),
            aws.ec2.SecurityGroupIngressArgs(protocol="-1", from_port=0, to_port=0,
                                             cidr_blocks=[spec.network_cidr],
                                             description="iperf3, ping, HTTP, PostgreSQL "
                                                         "between the site hosts"),
            *_downstream_ingress(spec),
        ],
        egress=[aws.ec2.SecurityGroupEgressArgs(protocol="-1", from_port=0, to_port=0,
                                                cidr_blocks=["0.0.0.0/0"])],
        tags=named("sg"), opts=opts)
    key = aws.ec2.KeyPair(spec.resource_name("key"), public_key=spec.ssh_public_key,
                          tags=named("key"), opts=opts)

    images = {}
    hosts = {}
    for role in spec.roles:
        itype = spec.loadgen_instance_type if role.startswith("loadgen") else spec.instance_type
        arch = arch_of(itype)
        image_name: pulumi.Input[str | None] = None  # a scenario's AMI id: name not looked up
        if spec.image:
            image_id: pulumi.Input[str] = spec.image
        else:
            if arch not in images:
                images[arch] = aws.ec2.get_ami_output(
                    most_recent=True, owners=[CANONICAL_OWNER],
                    filters=[aws.ec2.GetAmiFilterArgs(name="name",
                                                      values=[UBUNTU_NAME.format(arch=arch)]),
                             aws.ec2.GetAmiFilterArgs(name="architecture",
                                                      values=["arm64" if arch == "arm64"
                                                              else "x86_64"])],
                    opts=pulumi.InvokeOptions(provider=provider))
            image_id, image_name = images[arch].id, images[arch].name
        zone = spec.zone_of(role)
        market = (aws.ec2.InstanceInstanceMarketOptionsArgs(market_type="spot")
                  if spec.spot else None)
        vm = aws.ec2.Instance(
            spec.resource_name(role), ami=image_id, instance_type=itype,
            availability_zone=zone, subnet_id=subnets[zone].id,
            vpc_security_group_ids=[sg.id], key_name=key.key_name,
            associate_public_ip_address=True,
            # a secret: the host's private key is in it (encrypted in the checkpoint)
            user_data=pulumi.Output.secret(user_data(spec, role)),
            user_data_replace_on_change=True,
            instance_market_options=market,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(http_tokens="required"),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                volume_type="gp3", volume_size=ROOT_GB, encrypted=True,
                delete_on_termination=True, tags=named(f"{role}-root")),
            ebs_block_devices=[aws.ec2.InstanceEbsBlockDeviceArgs(
                device_name=DATA_DEVICE, volume_type=spec.disk.type,
                volume_size=spec.disk.size_gb, iops=spec.disk.iops,
                throughput=spec.disk.throughput_mbps, encrypted=True,
                delete_on_termination=True, tags=named(f"{role}-data"))],
            volume_tags=None, tags=named(role),
            opts=pulumi.ResourceOptions(provider=provider,
                                        additional_secret_outputs=["userData"]))
        hosts[role] = pulumi.Output.all(vm.private_ip, vm.public_ip, vm.id, vm.ami,
                                        image_name).apply(
            lambda a, zone=zone, itype=itype: {"private_ip": a[0], "public_ip": a[1],
                                               "zone": zone, "instance_type": itype,
                                               "id": a[2], "data_mount": DATA_MOUNT,
                                               "image": a[3], "image_name": a[4],
                                               "market": MARKET[spec.spot]})

    database: pulumi.Input[dict] | None = None
    if spec.database is not None:
        database = _rds(spec, named, opts, vpc, list(subnets.values()))
    pulumi.export("hosts", hosts)
    pulumi.export("database", database)
    pulumi.export("network", {"vpc_id": vpc.id, "cidr": spec.network_cidr,
                              "subnets": {z: s.id for z, s in subnets.items()}})
    pulumi.export("region", spec.region)
    return {"provider": provider, "vpc": vpc, "igw": igw, "subnets": subnets, "sg": sg,
            "hosts": hosts, "database": database}


def _rds(spec: CloudSiteSpec, named, opts: pulumi.ResourceOptions, vpc: aws.ec2.Vpc,
         subnets: list[aws.ec2.Subnet]) -> pulumi.Output[dict]:
    """RDS PostgreSQL in the site's subnets, reachable only from inside the VPC."""
    db = spec.database
    assert db is not None
    group = aws.rds.SubnetGroup(spec.resource_name("dbsubnets"),
                                subnet_ids=[s.id for s in subnets], tags=named("dbsubnets"),
                                opts=opts)
    sg = aws.ec2.SecurityGroup(
        spec.resource_name("dbsg"), vpc_id=vpc.id, description="bakeoff: PostgreSQL from the VPC",
        ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=5432, to_port=5432,
                                                  cidr_blocks=[spec.network_cidr])],
        tags=named("dbsg"), opts=opts)
    password = pulumi.Output.secret(db.password)
    rds = aws.rds.Instance(
        spec.resource_name("db"), engine="postgres", engine_version=db.engine_version,
        instance_class=db.instance_class,
        allocated_storage=db.storage_gb, storage_type="gp3",
        storage_encrypted=True, multi_az=db.ha, publicly_accessible=False,
        db_subnet_group_name=group.name, vpc_security_group_ids=[sg.id],
        availability_zone=None if db.ha else spec.zones[0],
        username=db.username, password=password, db_name=db.dbname,
        skip_final_snapshot=True, deletion_protection=False, apply_immediately=True,
        backup_retention_period=0, tags=named("db"), opts=opts)
    # zone: where RDS put the primary (it picks it for Multi-AZ): app-to-database traffic
    # is same-zone on some runs and cross-zone on others, so the run records it
    return pulumi.Output.all(rds.address, rds.port, password, rds.availability_zone,
                             rds.id).apply(
        lambda a: {"host": a[0], "port": a[1], "user": db.username, "password": a[2],
                   "dbname": db.dbname, "kind": "rds", "zone": a[3], "id": a[4]})
