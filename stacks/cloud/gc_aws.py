"""AWS leftovers for `bakeoff gc`: resources carrying the bakeoff tags, in deletion order.

Function sites add Lambda functions (first) and IAM roles (last, after the instance profiles
that hold them): stacks/cloud/gc_fn_aws.py.

Only resources with a `bakeoff-campaign` tag are listed at all (EC2 filters by tag key,
RDS by its tag list), so an untagged resource is never even looked at; the shared rule
in gc_common decides what is deleted. The order follows AWS's dependencies: databases and
their subnet groups, instances, then launch templates (Karpenter creates them with the
EC2NodeClass's tags, stacks/cloud/k8s_karpenter_aws.py), volumes, key pairs, security
groups, subnets, route tables, internet gateways, and finally VPCs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from stacks.cloud import gc_fn_aws
from stacks.cloud.gc_common import Leftover
from stacks.cloud.spec import TAG_CAMPAIGN

_TAGGED = [{"Name": "tag-key", "Values": [TAG_CAMPAIGN]}]


DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


def _tags(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or []}


def default_regions() -> list[str]:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return [region] if region else []


class AwsInventory:
    provider = "aws"

    def __init__(self, regions: list[str], session: Any = None,
                 endpoint_url: str | None = None):

        self.regions = regions
        from stacks.cloud.aws_session import aws_session

        self.session = session or aws_session()
        self.endpoint_url = endpoint_url
        self.eni_wait: dict[str, float] = {}  # tests shorten the wait for Lambda's ENIs
        self.unlisted: list[str] = []  # kinds these credentials may not list (_listed)

    def _client(self, service: str, region: str) -> Any:
        return self.session.client(service, region_name=region, endpoint_url=self.endpoint_url)

    def leftovers(self) -> Iterable[Leftover]:
        for region in self.regions:
            yield from self._listed(f"Lambda functions in {region}",
                                    gc_fn_aws.lambda_leftovers(self._client("lambda", region),
                                                               region))
            yield from self._rds(region)
            yield from self._ec2(region)
        if self.regions:
            iam = self._client("iam", self.regions[0])
            yield from self._listed("IAM instance profiles", gc_fn_aws.profile_leftovers(iam))
            yield from self._listed("IAM roles", gc_fn_aws.role_leftovers(iam))

    def _listed(self, what: str, found: Iterator[Leftover]) -> Iterator[Leftover]:
        """Leftovers of one kind; credentials without the permission to list that kind
        (function sites and EKS need Lambda and IAM list rights that a VM-only user may
        lack) skip the kind, named in the report, instead of the whole AWS sweep."""
        from botocore.exceptions import ClientError

        try:
            yield from found
        except ClientError as e:
            err = e.response.get("Error", {})
            if err.get("Code") not in DENIED:
                raise
            self.unlisted.append(f"{what}: {err.get('Code')} ({err.get('Message', '')})")

    def _rds(self, region: str) -> Iterator[Leftover]:
        rds = self._client("rds", region)
        for page in rds.get_paginator("describe_db_instances").paginate():
            for db in page["DBInstances"]:
                tags = _tags(db.get("TagList"))
                if TAG_CAMPAIGN in tags and db.get("DBInstanceStatus") != "deleting":
                    yield Leftover("aws", "rds-instance", db["DBInstanceIdentifier"],
                                   db["DBInstanceIdentifier"], tags, region,
                                   db.get("InstanceCreateTime"))
        for page in rds.get_paginator("describe_db_subnet_groups").paginate():
            for group in page["DBSubnetGroups"]:
                tags = _tags(rds.list_tags_for_resource(
                    ResourceName=group["DBSubnetGroupArn"]).get("TagList"))
                if TAG_CAMPAIGN in tags:
                    yield Leftover("aws", "db-subnet-group", group["DBSubnetGroupName"],
                                   group["DBSubnetGroupName"], tags, region)

    def _ec2(self, region: str) -> Iterator[Leftover]:
        ec2 = self._client("ec2", region)

        def pages(op: str, key: str, **kw: Any) -> Iterator[dict[str, Any]]:
            for page in ec2.get_paginator(op).paginate(Filters=_TAGGED, **kw):
                yield from page[key]

        for res in pages("describe_instances", "Reservations"):
            for i in res["Instances"]:
                if i["State"]["Name"] not in ("terminated", "shutting-down"):
                    tags = _tags(i.get("Tags"))
                    yield Leftover("aws", "instance", i["InstanceId"],
                                   tags.get("Name", i["InstanceId"]), tags, region,
                                   i.get("LaunchTime"))
        simple = [("launch-template", "describe_launch_templates", "LaunchTemplates",
                   "LaunchTemplateId", "CreateTime"),
                  ("volume", "describe_volumes", "Volumes", "VolumeId", "CreateTime"),
                  ("key-pair", "describe_key_pairs", "KeyPairs", "KeyName", "CreateTime"),
                  ("security-group", "describe_security_groups", "SecurityGroups", "GroupId",
                   None),
                  ("subnet", "describe_subnets", "Subnets", "SubnetId", None),
                  ("route-table", "describe_route_tables", "RouteTables", "RouteTableId", None),
                  ("internet-gateway", "describe_internet_gateways", "InternetGateways",
                   "InternetGatewayId", None),
                  ("vpc", "describe_vpcs", "Vpcs", "VpcId", None)]
        for kind, op, key, id_key, created in simple:
            if op == "describe_key_pairs":  # not paginated
                items = ec2.describe_key_pairs(Filters=_TAGGED)["KeyPairs"]
            else:
                items = list(pages(op, key))
            for item in items:
                tags = _tags(item.get("Tags"))
                yield Leftover("aws", kind, item[id_key], tags.get("Name", item[id_key]), tags,
                               region, item.get(created) if created else None)

    def delete(self, item: Leftover) -> None:
        region = item.location
        if item.kind == "lambda-function":
            gc_fn_aws.delete_lambda(self._client("lambda", region),
                                    self._client("ec2", region), item.id, **self.eni_wait)
            return
        if item.kind == "instance-profile":
            gc_fn_aws.delete_profile(self._client("iam", self.regions[0]), item.id)
            return
        if item.kind == "iam-role":
            gc_fn_aws.delete_role(self._client("iam", self.regions[0]), item.id)
            return
        if item.kind in ("rds-instance", "db-subnet-group"):
            rds = self._client("rds", region)
            if item.kind == "rds-instance":
                rds.delete_db_instance(DBInstanceIdentifier=item.id, SkipFinalSnapshot=True,
                                       DeleteAutomatedBackups=True)
                rds.get_waiter("db_instance_deleted").wait(
                    DBInstanceIdentifier=item.id, WaiterConfig={"Delay": 15, "MaxAttempts": 80})
            else:
                rds.delete_db_subnet_group(DBSubnetGroupName=item.id)
            return
        ec2 = self._client("ec2", region)
        if item.kind == "instance":
            ec2.terminate_instances(InstanceIds=[item.id])
            ec2.get_waiter("instance_terminated").wait(
                InstanceIds=[item.id], WaiterConfig={"Delay": 5, "MaxAttempts": 120})
        elif item.kind == "launch-template":
            ec2.delete_launch_template(LaunchTemplateId=item.id)
        elif item.kind == "volume":
            ec2.delete_volume(VolumeId=item.id)
        elif item.kind == "key-pair":
            ec2.delete_key_pair(KeyName=item.id)
        elif item.kind == "security-group":
            ec2.delete_security_group(GroupId=item.id)
        elif item.kind == "subnet":
            ec2.delete_subnet(SubnetId=item.id)
        elif item.kind == "route-table":
            table = ec2.describe_route_tables(RouteTableIds=[item.id])["RouteTables"][0]
            for assoc in table.get("Associations", []):
                if not assoc.get("Main"):
                    ec2.disassociate_route_table(AssociationId=assoc["RouteTableAssociationId"])
            ec2.delete_route_table(RouteTableId=item.id)
        elif item.kind == "internet-gateway":
            igw = ec2.describe_internet_gateways(InternetGatewayIds=[item.id])
            for att in igw["InternetGateways"][0].get("Attachments", []):
                ec2.detach_internet_gateway(InternetGatewayId=item.id, VpcId=att["VpcId"])
            ec2.delete_internet_gateway(InternetGatewayId=item.id)
        elif item.kind == "vpc":
            ec2.delete_vpc(VpcId=item.id)
        else:
            raise ValueError(f"unknown AWS leftover kind {item.kind}")
