"""AWS function leftovers for `bakeoff gc`: Lambda functions and their IAM roles.

A function site (stacks/cloud/fn_aws.py) adds, with the site's tags: the Lambda function
(its function URL and resource policy belong to it and go with it), the function's IAM
role, and, in a VPC, two subnets and a security group (found by the EC2 part of
gc_aws like any tagged subnet or group). Lambda does not return tags in ListFunctions, so
each function's tags are read with ListTags; a function without the `bakeoff-campaign`
tag is never a leftover. Bakeoff creates no log group (Lambda makes /aws/lambda/<name>
itself, untagged), so none is deleted.

Order: functions before the EC2 part (a VPC function's network interfaces hold its
subnets and security group), roles last. Deleting a VPC function leaves its
Lambda-managed network interfaces (description "AWS Lambda VPC ENI-<name>-...") for
Lambda to release, which takes minutes; `delete` waits for them (bounded), so the
subnets and group after it can go in the same sweep.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from stacks.cloud.gc_common import Leftover
from stacks.cloud.spec import TAG_CAMPAIGN

ENI_WAIT_S = 1200.0  # Lambda may take up to 20 minutes to release a function's ENIs
ENI_POLL_S = 5.0


def lambda_leftovers(lam: Any, region: str) -> Iterator[Leftover]:
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            tags = lam.list_tags(Resource=fn["FunctionArn"]).get("Tags") or {}
            if TAG_CAMPAIGN in tags:
                yield Leftover("aws", "lambda-function", fn["FunctionName"],
                               fn["FunctionName"], tags, region, None)


def role_leftovers(iam: Any) -> Iterator[Leftover]:
    """Tagged IAM roles (global: listed once, whatever the regions)."""
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(
                RoleName=role["RoleName"]).get("Tags", [])}
            if TAG_CAMPAIGN in tags:
                yield Leftover("aws", "iam-role", role["RoleName"], role["RoleName"], tags,
                               "global", role.get("CreateDate"))


def lambda_enis(ec2: Any, name: str) -> list[str]:
    """The network interfaces Lambda still holds for function `name`."""
    found = ec2.describe_network_interfaces(Filters=[
        {"Name": "description", "Values": [f"AWS Lambda VPC ENI-{name}*"]}])
    return [n["NetworkInterfaceId"] for n in found["NetworkInterfaces"]]


def delete_lambda(lam: Any, ec2: Any, name: str, wait_s: float = ENI_WAIT_S,
                  poll_s: float = ENI_POLL_S) -> None:
    """Delete the function (its URL and permissions with it), then wait until Lambda
    released its network interfaces; a TimeoutError names the ones left."""
    lam.delete_function(FunctionName=name)
    deadline = time.monotonic() + wait_s
    while True:
        left = lambda_enis(ec2, name)
        if not left:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"Lambda {name} deleted, but its network interfaces "
                               f"{', '.join(left)} were not released within {wait_s:.0f}s; "
                               "the next gc sweep deletes the subnets and group")
        time.sleep(poll_s)


def delete_role(iam: Any, name: str) -> None:
    """Detach managed policies and drop inline ones first (IAM refuses otherwise)."""
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        for policy in page["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for policy in page["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
    iam.delete_role(RoleName=name)
