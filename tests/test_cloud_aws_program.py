"""The AWS Pulumi program, run for real under Pulumi mocks (no CLI, no account)."""

from __future__ import annotations

import datetime as dt

import pytest

pytest.importorskip("pulumi_aws")

from bench.scenarios import parse_campaign
from core.errors import PrerequisiteError
from stacks.cloud.preview import preview_program
from stacks.cloud.resolve import build_spec, operator_cidr
from stacks.cloud.rules import unwrap_secrets
from stacks.cloud.spec import (
    TAG_KEYS,
    HostKey,
    environment_database,
    environment_hosts,
)

# Resource types AWS cannot tag (associations) and the provider itself.
UNTAGGABLE = {"aws:ec2/routeTableAssociation:RouteTableAssociation", "pulumi:providers:aws"}
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def _campaign(**site):
    base = {"name": "aws-site", "provider": "aws", "region": "eu-west-1",
            "zones": ["eu-west-1a", "eu-west-1b"], "instance_type": "c6i.xlarge"}
    return parse_campaign({"name": "t", "ttl_minutes": 90, "sites": [{**base, **site}]},
                          "test")


def _preview(campaign, cidr="198.51.100.7/32"):
    site = campaign.sites[0]
    keys = {r: HostKey("PRIVATE", f"ssh-ed25519 AAAA{r}") for r in
            ("server", "client", *(f"loadgen-{i}" for i in range(site.loadgen)))}
    spec = build_spec(site, campaign, "c1", cidr=cidr, ssh_public_key="ssh-ed25519 AAAAop",
                      host_keys=keys, db_password="s3cret", now=NOW,
                      cloud_init={r: f"#cloud-config\n# {r}" for r in keys})
    return spec, preview_program(spec)


def _of(preview, token):
    return [r for r in preview.resources if r.type == token]


def test_layout_types_zones_and_encryption():
    _spec, p = _preview(_campaign(loadgen=2, loadgen_instance_type="c6i.large",
                                 disk_type="io2", disk_iops=4000, disk_gb=100))
    subnets = _of(p, "aws:ec2/subnet:Subnet")
    assert sorted(s.properties["availabilityZone"] for s in subnets) == ["eu-west-1a",
                                                                        "eu-west-1b"]
    vms = {r.name: r.properties for r in _of(p, "aws:ec2/instance:Instance")}
    assert set(vms) == {"bko-aws-site-server", "bko-aws-site-client", "bko-aws-site-loadgen-0",
                        "bko-aws-site-loadgen-1"}
    assert vms["bko-aws-site-server"]["availabilityZone"] != \
        vms["bko-aws-site-client"]["availabilityZone"]
    assert vms["bko-aws-site-server"]["instanceType"] == "c6i.xlarge"
    assert vms["bko-aws-site-loadgen-1"]["instanceType"] == "c6i.large"
    for vm in vms.values():
        assert vm["rootBlockDevice"]["encrypted"] is True
        (data,) = vm["ebsBlockDevices"]
        assert data["encrypted"] is True and data["volumeType"] == "io2"
        assert data["iops"] == 4000 and data["volumeSize"] == 100
        assert vm["metadataOptions"]["httpTokens"] == "required"
        user_data = unwrap_secrets(vm["userData"])  # a secret: it holds the host key
        assert user_data != vm["userData"] and user_data.startswith("#cloud-config")
        assert "ed25519_private: PRIVATE" in user_data
    # the image is looked up (Canonical's owner id), not hard-coded
    assert vms["bko-aws-site-server"]["ami"].startswith("ami-preview")


def test_ssh_only_from_operator_and_vpc_open_inside():
    _, p = _preview(_campaign())
    (sg,) = _of(p, "aws:ec2/securityGroup:SecurityGroup")
    ingress = sg.properties["ingress"]
    ssh = [r for r in ingress if r["fromPort"] <= 22 <= r["toPort"] or r["protocol"] == "-1"]
    for rule in ssh:
        assert "0.0.0.0/0" not in rule["cidrBlocks"]
    assert {"198.51.100.7/32"} == {c for r in ingress if r["fromPort"] == 22
                                   for c in r["cidrBlocks"]}
    assert any(r["protocol"] == "-1" and r["cidrBlocks"] == ["10.42.0.0/16"] for r in ingress)


def test_open_world_ssh_only_when_written_and_warned(monkeypatch):
    monkeypatch.delenv("BAKEOFF_OPERATOR_CIDR", raising=False)
    site = _campaign(ssh_cidr="0.0.0.0/0").sites[0]
    cidr, warning = operator_cidr(site, detected="192.0.2.4")
    assert cidr == "0.0.0.0/0" and "anyone on the internet" in warning
    cidr, warning = operator_cidr(_campaign().sites[0], detected="192.0.2.4")
    assert (cidr, warning) == ("192.0.2.4/32", None)
    with pytest.raises(PrerequisiteError, match="ssh_cidr"):
        operator_cidr(_campaign().sites[0], detected=None)


def test_every_taggable_resource_carries_the_four_tags():
    _spec, p = _preview(_campaign(database={"instance": "db.m6i.large", "ha": True}))
    tagged = [r for r in p.resources if r.type not in UNTAGGABLE]
    assert len(tagged) >= 10
    for r in tagged:
        tags = r.properties.get("tags") or {}
        assert set(TAG_KEYS) <= set(tags), f"{r.type} {r.name} lacks tags: {tags}"
        assert tags["bakeoff-campaign"] == "c1" and tags["bakeoff-site"] == "aws-site"
        assert tags["bakeoff-expires-at"] == "2026-11-27T13:30:00+00:00"
    for vm in _of(p, "aws:ec2/instance:Instance"):
        assert set(TAG_KEYS) <= set(vm.properties["rootBlockDevice"]["tags"])
        assert set(TAG_KEYS) <= set(vm.properties["ebsBlockDevices"][0]["tags"])


@pytest.mark.parametrize("ha", [True, False])
def test_rds_private_encrypted_and_multi_az_when_asked(ha):
    _, p = _preview(_campaign(database={"instance": "db.m6i.large", "ha": ha,
                                        "storage_gb": 40}))
    (db,) = _of(p, "aws:rds/instance:Instance")
    assert db.properties["publiclyAccessible"] is False
    assert db.properties["storageEncrypted"] is True
    assert db.properties["multiAz"] is ha
    assert db.properties["instanceClass"] == "db.m6i.large"
    assert db.properties["allocatedStorage"] == 40
    (dbsg,) = [r for r in _of(p, "aws:ec2/securityGroup:SecurityGroup")
               if r.name.endswith("dbsg")]
    assert dbsg.properties["ingress"][0]["cidrBlocks"] == ["10.42.0.0/16"]


def test_outputs_complete_for_the_environment():
    _, p = _preview(_campaign(database={"ha": False}, loadgen=1))
    hosts = environment_hosts(p.outputs)
    assert set(hosts) == {"server", "client", "loadgen-0"}
    assert hosts["server"]["zone"] == "eu-west-1a" and hosts["client"]["zone"] == "eu-west-1b"
    db = environment_database(p.outputs)
    assert db["kind"] == "rds" and db["password"] == "s3cret" and db["port"] == 5432
    assert p.outputs["region"] == "eu-west-1"
    # a default (non-burstable) class when the scenario names none
    (rds,) = _of(p, "aws:rds/instance:Instance")
    assert rds.properties["instanceClass"] == "db.m6i.large"
    _, bare = _preview(_campaign())
    assert environment_database(bare.outputs) is None
