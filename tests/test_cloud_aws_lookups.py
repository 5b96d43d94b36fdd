"""The AWS program against mocks that answer as EC2 would (tests/aws_strict_mocks.py): the
image lookup, the addresses a host gets, and the rules EC2 enforces, each able to fail.

The preview mocks hand any lookup "ami-preview-<arch>" and any instance an invented address,
so the program test (tests/test_cloud_aws_program.py) could not catch a lookup without
Canonical's owner id or peers outside their subnet; these tests can.
"""

from __future__ import annotations

import ipaddress

import pytest

pytest.importorskip("pulumi_aws")

from stacks.cloud import aws as aws_program
from stacks.cloud.resolve import build_spec
from stacks.cloud.spec import HostKey
from tests import aws_strict_mocks as ec2
from tests.test_cloud_aws_program import NOW, _campaign


def _spec(campaign):
    site = campaign.sites[0]
    keys = {r: HostKey("PRIVATE", f"ssh-ed25519 AAAA{r}") for r in
            ("server", "client", *(f"loadgen-{i}" for i in range(site.loadgen)))}
    return build_spec(site, campaign, "c1", cidr="198.51.100.7/32",
                      ssh_public_key="ssh-ed25519 AAAAop", host_keys=keys,
                      db_password="s3cret", now=NOW,
                      cloud_init={r: f"#cloud-config\n# {r}" for r in keys})


def test_images_are_canonicals_newest_for_each_architecture():
    # c6i: x86_64, a c7g load generator: arm64. The table's newest x86_64 "ubuntu-noble"
    # image belongs to another account; Canonical's newest is 2025-10-21 (by hand).
    state, out = ec2.run(aws_program.program, _spec(_campaign(
        loadgen=1, loadgen_instance_type="c7g.large")))
    images = {role: h["image"] for role, h in out["hosts"].items()}
    assert images == {"server": ec2.EXPECTED_IMAGE["x86_64"],
                      "client": ec2.EXPECTED_IMAGE["x86_64"],
                      "loadgen-0": ec2.EXPECTED_IMAGE["arm64"]}
    assert all(lk["owners"] == [ec2.CANONICAL] for lk in state.lookups)
    assert len(state.lookups) == 2  # one lookup per architecture, not per host


def test_every_host_gets_a_private_address_of_its_own_zones_subnet():
    state, out = ec2.run(aws_program.program, _spec(_campaign(loadgen=2)))
    subnets = {zone: cidr for cidr, zone in state.subnets.values()}
    hosts = out["hosts"]
    for role, host in hosts.items():
        addr = ipaddress.ip_address(host["private_ip"])
        assert addr in subnets[host["zone"]], role
        # EC2 keeps the first four and the last address of a subnet
        assert int(addr) - int(subnets[host["zone"]].network_address) >= 4
        # a public address apart from the VPC (associate_public_ip_address asked for one)
        assert host["public_ip"] and all(ipaddress.ip_address(host["public_ip"]) not in vpc
                                         for vpc in state.vpcs.values())
    assert len({h["private_ip"] for h in hosts.values()}) == len(hosts) == 4
    # server in the first zone, client and load generators in the second (docstring of
    # stacks/cloud/aws.py): by hand, subnets 10.x.0.0/24 and 10.x.1.0/24 of the VPC
    assert hosts["server"]["zone"] == "eu-west-1a" and hosts["client"]["zone"] == "eu-west-1b"


# -- the rules bite: each refuses what EC2 would --------------------------------------------

def test_a_lookup_without_the_owner_gets_someone_elses_image():
    args = {"mostRecent": True, "filters": [
        {"name": "name", "values": [aws_program.UBUNTU_NAME.format(arch="amd64")]},
        {"name": "architecture", "values": ["x86_64"]}]}
    assert ec2.describe_images(args)["ownerId"] == ec2.OTHER_ACCOUNT
    assert ec2.describe_images({**args, "owners": [ec2.CANONICAL]})["id"] == \
        ec2.EXPECTED_IMAGE["x86_64"]
    with pytest.raises(ec2.AwsApiError, match="more than one result"):
        ec2.describe_images({**args, "mostRecent": False})
    with pytest.raises(ec2.AwsApiError, match="no results"):
        ec2.describe_images({**args, "owners": ["137112412989"]})


def test_ec2_refuses_a_foreign_subnet_a_wrong_zone_and_a_wrong_architecture():
    state = ec2.Ec2()
    state.vpcs["vpc-id"] = ipaddress.ip_network("10.42.0.0/16")
    with pytest.raises(ec2.AwsApiError, match=r"InvalidSubnet\.Range"):
        state.subnet("s", {"cidrBlock": "10.43.0.0/24", "vpcId": "vpc-id"})
    state.subnet("s", {"cidrBlock": "10.42.0.0/24", "vpcId": "vpc-id",
                       "availabilityZone": "eu-west-1a"})
    ok = {"subnetId": "s-id", "availabilityZone": "eu-west-1a", "instanceType": "c6i.large",
          "ami": ec2.EXPECTED_IMAGE["x86_64"], "associatePublicIpAddress": False}
    first = state.instance("a", ok)
    assert first["privateIp"] == "10.42.0.4" and "publicIp" not in first
    with pytest.raises(ec2.AwsApiError, match=r"InvalidSubnetID\.NotFound"):
        state.instance("b", {**ok, "subnetId": "nope-id"})
    with pytest.raises(ec2.AwsApiError, match="is in eu-west-1a"):
        state.instance("b", {**ok, "availabilityZone": "eu-west-1b"})
    with pytest.raises(ec2.AwsApiError, match="architecture 'arm64'"):
        state.instance("b", {**ok, "instanceType": "c7g.large"})
    with pytest.raises(ec2.AwsApiError, match=r"InvalidAMIID\.NotFound"):
        state.instance("b", {**ok, "ami": "ami-preview-x86_64"})
