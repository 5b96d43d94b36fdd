"""`bakeoff gc --provider aws` against moto in server mode (a real HTTP endpoint)."""

from __future__ import annotations

import datetime as dt

import pytest

pytest.importorskip("moto")

import boto3
from typer.testing import CliRunner

from bakeoff.cli import app
from stacks.cloud.gc_aws import AwsInventory
from stacks.cloud.gc_common import collect

REGION = "us-east-1"
NOW = dt.datetime.now(dt.UTC)
PAST = (NOW - dt.timedelta(hours=3)).isoformat(timespec="seconds")
FUTURE = (NOW + dt.timedelta(hours=3)).isoformat(timespec="seconds")


def _tags(campaign: str, expires: str, name: str) -> list[dict]:
    return [{"Key": "bakeoff-campaign", "Value": campaign}, {"Key": "bakeoff-site",
            "Value": "aws"}, {"Key": "bakeoff-expires-at", "Value": expires},
            {"Key": "owner", "Value": "t"}, {"Key": "Name", "Value": name}]


def _site(ec2, rds, campaign: str | None, expires: str) -> dict[str, str]:
    """VPC, subnet, IGW, route table, SG, key pair, instance, volume, RDS (tagged unless
    campaign is None)."""
    def spec(kind: str, name: str) -> list[dict]:
        if campaign is None:
            return []
        return [{"ResourceType": kind, "Tags": _tags(campaign, expires, name)}]

    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16",
                         TagSpecifications=spec("vpc", "vpc"))["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24", AvailabilityZone="us-east-1a",
                               TagSpecifications=spec("subnet", "subnet"))["Subnet"]["SubnetId"]
    subnet2 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.2.0/24",
                                AvailabilityZone="us-east-1b",
                                TagSpecifications=spec("subnet", "subnet2"))["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway(TagSpecifications=spec("internet-gateway", "igw"))[
        "InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rt = ec2.create_route_table(VpcId=vpc, TagSpecifications=spec("route-table", "rt"))[
        "RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rt, SubnetId=subnet)
    sg = ec2.create_security_group(GroupName=f"sg-{campaign}", Description="x", VpcId=vpc,
                                   TagSpecifications=spec("security-group", "sg"))["GroupId"]
    key = ec2.create_key_pair(KeyName=f"key-{campaign}",
                              TagSpecifications=spec("key-pair", "key"))["KeyPairId"]
    inst = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
                             InstanceType="c6i.large", SubnetId=subnet, SecurityGroupIds=[sg],
                             TagSpecifications=spec("instance", "server"))[
        "Instances"][0]["InstanceId"]
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=10, Encrypted=True,
                            TagSpecifications=spec("volume", "data"))["VolumeId"]
    tags = _tags(campaign, expires, "db")[:4] if campaign else []
    db = f"db-{campaign or 'untagged'}"  # RDS identifiers are lower case
    rds.create_db_subnet_group(DBSubnetGroupName=f"dbsubnets-{campaign}",
                               DBSubnetGroupDescription="x", SubnetIds=[subnet, subnet2],
                               Tags=tags)
    rds.create_db_instance(DBInstanceIdentifier=db, Engine="postgres",
                           DBInstanceClass="db.m6i.large", AllocatedStorage=20,
                           MasterUsername="bakeoff", MasterUserPassword="secret123",
                           DBSubnetGroupName=f"dbsubnets-{campaign}", Tags=tags)
    return {"vpc": vpc, "instance": inst, "volume": vol, "key": key, "sg": sg,
            "db": db}


def _state(ec2, rds, ids: dict[str, str]) -> dict[str, bool]:
    """Which of the site's resources still exist."""
    inst = ec2.describe_instances(InstanceIds=[ids["instance"]])["Reservations"][0][
        "Instances"][0]["State"]["Name"]
    return {
        "vpc": bool(ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [ids["vpc"]]}])[
            "Vpcs"]),
        "instance": inst not in ("terminated", "shutting-down"),
        "volume": bool(ec2.describe_volumes(
            Filters=[{"Name": "volume-id", "Values": [ids["volume"]]}])["Volumes"]),
        "key": bool(ec2.describe_key_pairs(
            Filters=[{"Name": "key-pair-id", "Values": [ids["key"]]}])["KeyPairs"]),
        "db": any(d["DBInstanceIdentifier"] == ids["db"]
                  for d in rds.describe_db_instances()["DBInstances"]),
    }


def test_gc_deletes_expired_keeps_live_and_untagged(moto, tmp_path, monkeypatch):
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=moto)
    rds = boto3.client("rds", region_name=REGION, endpoint_url=moto)
    expired = _site(ec2, rds, "old-campaign", PAST)
    live = _site(ec2, rds, "live-campaign", FUTURE)
    untagged = _site(ec2, rds, None, PAST)

    inv = AwsInventory([REGION], endpoint_url=moto)
    dry = collect(inv, known_campaigns={"live-campaign"})
    assert dry.dry_run and not dry.deleted
    condemned = {v.item.campaign for v in dry.to_delete}
    assert condemned == {"old-campaign"}
    kinds = {v.item.kind for v in dry.to_delete}
    assert {"instance", "volume", "key-pair", "security-group", "subnet", "route-table",
            "internet-gateway", "vpc", "rds-instance", "db-subnet-group"} <= kinds
    assert all(_state(ec2, rds, expired).values())  # dry run: nothing deleted

    # through the CLI, as a user runs it
    state = tmp_path / "state"
    (state / "campaigns" / "live-campaign").mkdir(parents=True)
    monkeypatch.setenv("BAKEOFF_STATE_DIR", str(state))
    res = CliRunner().invoke(app, ["gc", "--provider", "aws", "--region", REGION, "--delete"],
                             env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "aws: deleted" in res.output
    assert not any(_state(ec2, rds, expired).values()), _state(ec2, rds, expired)
    assert all(_state(ec2, rds, live).values())
    assert all(_state(ec2, rds, untagged).values())
