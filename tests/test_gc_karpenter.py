"""`bakeoff gc` finds what Karpenter launched on an EKS site and Pulumi never knew: the
instances, their volumes and the launch templates, by the campaign tags the EC2NodeClass
puts on them (stacks/cloud/k8s_karpenter_aws.py node_class). Against moto in server mode."""

from __future__ import annotations

import pytest

pytest.importorskip("moto")

import boto3

from stacks.cloud.gc_aws import AwsInventory
from stacks.cloud.gc_common import collect
from tests.test_gc_aws import FUTURE, PAST, REGION


def _karpenter_tags(campaign: str | None, expires: str) -> list[dict[str, str]]:
    """What Karpenter puts on an instance it launches: its own keys, plus the
    EC2NodeClass's spec.tags (the campaign's, unless campaign is None)."""
    own = {"karpenter.sh/nodepool": "bko-nodes", "karpenter.sh/managed-by": "bko-eks-abc123",
           "kubernetes.io/cluster/bko-eks-abc123": "owned",
           "eks:eks-cluster-name": "bko-eks-abc123", "Name": "bko-eks-karpenter-node"}
    if campaign:
        own |= {"bakeoff-campaign": campaign, "bakeoff-site": "eks",
                "bakeoff-expires-at": expires, "owner": "t"}
    return [{"Key": k, "Value": v} for k, v in own.items()]


def _karpenter_node(ec2, campaign: str | None, expires: str) -> dict[str, str]:
    tags = _karpenter_tags(campaign, expires)
    lt = ec2.create_launch_template(
        LaunchTemplateName=f"karpenter.k8s.aws/{campaign or 'untagged'}",
        LaunchTemplateData={"InstanceType": "c7i.xlarge"},
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": tags}])[
        "LaunchTemplate"]["LaunchTemplateId"]
    inst = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
                             InstanceType="c7i.xlarge",
                             TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])[
        "Instances"][0]["InstanceId"]
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=20,
                            TagSpecifications=[{"ResourceType": "volume", "Tags": tags}])[
        "VolumeId"]
    return {"launch-template": lt, "instance": inst, "volume": vol}


def _alive(ec2, ids: dict[str, str]) -> dict[str, bool]:
    state = ec2.describe_instances(InstanceIds=[ids["instance"]])["Reservations"][0][
        "Instances"][0]["State"]["Name"]
    lts = {t["LaunchTemplateId"] for t in ec2.describe_launch_templates()["LaunchTemplates"]}
    return {"instance": state not in ("terminated", "shutting-down"),
            "launch-template": ids["launch-template"] in lts,
            "volume": bool(ec2.describe_volumes(
                Filters=[{"Name": "volume-id", "Values": [ids["volume"]]}])["Volumes"])}


def test_gc_finds_and_deletes_karpenters_leftovers_by_campaign_tags(moto):
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=moto)
    old = _karpenter_node(ec2, "old-campaign", PAST)
    live = _karpenter_node(ec2, "live-campaign", FUTURE)
    untagged = _karpenter_node(ec2, None, PAST)  # Karpenter's keys only: not bakeoff's

    inv = AwsInventory([REGION], endpoint_url=moto)
    dry = collect(inv, known_campaigns={"live-campaign"})
    found = {(v.item.kind, v.item.id) for v in dry.to_delete}
    assert found == {(k, i) for k, i in old.items()}  # all three kinds, of that campaign only
    kinds = [v.item.kind for v in dry.verdicts if v.item.campaign == "old-campaign"]
    assert kinds.index("instance") < kinds.index("launch-template") < kinds.index("volume")

    done = collect(inv, known_campaigns={"live-campaign"}, delete=True)
    assert done.errors == [] and len(done.deleted) == 3
    assert not any(_alive(ec2, old).values()), _alive(ec2, old)
    assert all(_alive(ec2, live).values())
    assert all(_alive(ec2, untagged).values())


def test_karpenters_node_role_goes_with_its_instance_profile(moto):
    """Planted: without the profiles listed first, IAM's DeleteConflict ("must remove
    roles from instance profile first") left the node role and its profile behind."""
    iam = boto3.client("iam", region_name=REGION, endpoint_url=moto)
    trust = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
             '{"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')

    def node_role(campaign: str | None, expires: str) -> str:
        tags = [t for t in _karpenter_tags(campaign, expires)
                if t["Key"].startswith("bakeoff-") or t["Key"] == "owner"]
        name = f"bko-eks-kp-node-{campaign or 'untagged'}"
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, Tags=tags)
        iam.create_instance_profile(InstanceProfileName=f"{name}-profile", Tags=tags)
        iam.add_role_to_instance_profile(InstanceProfileName=f"{name}-profile", RoleName=name)
        return name

    old, live, untagged = (node_role("old-campaign", PAST), node_role("live-campaign", FUTURE),
                           node_role(None, PAST))
    inv = AwsInventory([REGION], endpoint_url=moto)
    dry = collect(inv, known_campaigns={"live-campaign"})
    found = {(v.item.kind, v.item.id) for v in dry.to_delete}
    assert found == {("instance-profile", f"{old}-profile"), ("iam-role", old)}
    kinds = [v.item.kind for v in dry.verdicts]
    assert kinds.index("instance-profile") < kinds.index("iam-role")

    done = collect(inv, known_campaigns={"live-campaign"}, delete=True)
    assert done.errors == [], done.errors
    roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    profiles = {p["InstanceProfileName"] for p in iam.list_instance_profiles()[
        "InstanceProfiles"]}
    assert roles == {live, untagged}
    assert profiles == {f"{live}-profile", f"{untagged}-profile"}
