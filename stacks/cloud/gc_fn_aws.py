"""AWS function leftovers for `bakeoff gc`: Lambda functions, IAM roles and instance profiles.

A function site (stacks/cloud/fn_aws.py) adds, with the site's tags: the Lambda function
(its function URL and resource policy belong to it and go with it), the function's IAM
role, and, in a VPC, two subnets and a security group (found by the EC2 part of
gc_aws like any tagged subnet or group). EKS sites' roles are tagged too, and Karpenter's
node role sits in a tagged instance profile (stacks/cloud/k8s_karpenter_aws.py): profiles
are listed and deleted before the roles, since IAM refuses to delete a role in a profile.
Lambda does not return tags in ListFunctions, so each function's tags are read with
ListTags; a function without the `bakeoff-campaign` tag is never a leftover. Bakeoff
creates no log group (Lambda makes /aws/lambda/<name> itself, untagged), so none is deleted.

Order: functions before the EC2 part (a VPC function's network interfaces hold its
subnets and security group), instance profiles, then roles last. Deleting a VPC function
leaves its Lambda-managed network interfaces (description "AWS Lambda VPC ENI-<name>-...")
for Lambda to release, which takes minutes; `delete` waits for them (bounded), so the
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


def profile_leftovers(iam: Any) -> Iterator[Leftover]:
    """Tagged instance profiles (Karpenter's node role has one, k8s_karpenter_aws.py),
    before the roles: IAM refuses to delete a role still in a profile. ListInstanceProfiles
    returns no tags, so each profile's are read with GetInstanceProfile."""
    for page in iam.get_paginator("list_instance_profiles").paginate():
        for p in page["InstanceProfiles"]:
            name = p["InstanceProfileName"]
            tags = {t["Key"]: t["Value"] for t in iam.get_instance_profile(
                InstanceProfileName=name)["InstanceProfile"].get("Tags", [])}
            if TAG_CAMPAIGN in tags:
                yield Leftover("aws", "instance-profile", name, name, tags, "global",
                               p.get("CreateDate"))


def delete_profile(iam: Any, name: str) -> None:
    """Take its roles out first (IAM refuses to delete a profile that has one)."""
    profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    for role in profile.get("Roles", []):
        iam.remove_role_from_instance_profile(InstanceProfileName=name,
                                              RoleName=role["RoleName"])
    iam.delete_instance_profile(InstanceProfileName=name)


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
    """Leave any instance profile still holding it (one kept by the sweep: untagged or a
    live campaign's), detach managed policies and drop inline ones first (IAM refuses to
    delete a role otherwise)."""
    for page in iam.get_paginator("list_instance_profiles_for_role").paginate(RoleName=name):
        for profile in page["InstanceProfiles"]:
            iam.remove_role_from_instance_profile(
                InstanceProfileName=profile["InstanceProfileName"], RoleName=name)
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        for policy in page["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for policy in page["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
    iam.delete_role(RoleName=name)
