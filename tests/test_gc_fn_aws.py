"""`bakeoff gc` finds AWS function leftovers by type (Lambda functions, their IAM roles)
against moto in server mode: expired ones deleted, a live campaign's and untagged ones
kept, and a VPC function's network interfaces awaited before the sweep goes on."""

from __future__ import annotations

import io
import threading
import time
import zipfile

import pytest

pytest.importorskip("moto")

import boto3

from stacks.cloud.gc_aws import AwsInventory
from stacks.cloud.gc_common import collect
from tests.test_gc_aws import FUTURE, PAST, REGION

ASSUME = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
          '{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')
LOGS = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
        '"logs:CreateLogGroup", "Resource": "*"}]}')


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.js", "exports.handler = async () => ({statusCode: 200});\n")
    return buf.getvalue()


def _tags(campaign: str, expires: str) -> dict[str, str]:
    return {"bakeoff-campaign": campaign, "bakeoff-site": "lambda",
            "bakeoff-expires-at": expires, "owner": "t"}


def _function(clients, name: str, campaign: str | None, expires: str) -> str:
    """A role (with the basic policy attached) and a function with a URL, as fn_aws
    declares them; tagged unless campaign is None."""
    lam, iam = clients["lambda"], clients["iam"]
    tags = _tags(campaign, expires) if campaign else {}
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=ASSUME,
                           Tags=[{"Key": k, "Value": v} for k, v in tags.items()])["Role"]
    # moto loads no AWS-managed policies: a customer one stands in for the basic policy
    policy = iam.create_policy(PolicyName=f"{name}-basic", PolicyDocument=LOGS)["Policy"]
    iam.attach_role_policy(RoleName=f"{name}-role", PolicyArn=policy["Arn"])
    iam.put_role_policy(RoleName=f"{name}-role", PolicyName="inline", PolicyDocument=LOGS)
    lam.create_function(FunctionName=name, Runtime="nodejs22.x", Role=role["Arn"],
                        Handler="index.handler", Code={"ZipFile": _zip()}, Tags=tags)
    lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    return name


def _exists(lam, name: str) -> bool:
    try:
        lam.get_function(FunctionName=name)
        return True
    except lam.exceptions.ResourceNotFoundException:
        return False


def _roles(iam) -> set[str]:
    return {r["RoleName"] for r in iam.list_roles()["Roles"]}


def test_expired_functions_and_roles_go_live_and_untagged_stay(moto):
    clients = {s: boto3.client(s, region_name=REGION, endpoint_url=moto)
               for s in ("lambda", "iam", "ec2")}
    old = _function(clients, "bko-lambda-fn", "old-campaign", PAST)
    live = _function(clients, "bko-live-fn", "live-campaign", FUTURE)
    stranger = _function(clients, "someone-elses-fn", None, PAST)  # noise: untagged

    inv = AwsInventory([REGION], endpoint_url=moto)
    dry = collect(inv, known_campaigns={"live-campaign"})
    found = {(v.item.kind, v.item.id): v.action for v in dry.verdicts}
    assert found == {("lambda-function", old): "delete", ("lambda-function", live): "keep",
                     ("iam-role", f"{old}-role"): "delete",
                     ("iam-role", f"{live}-role"): "keep"}  # the untagged are never listed
    kinds = [v.item.kind for v in dry.verdicts]
    assert kinds.index("lambda-function") < kinds.index("iam-role")  # the role goes last
    assert _exists(clients["lambda"], old)  # a dry run deletes nothing

    done = collect(inv, known_campaigns={"live-campaign"}, delete=True)
    assert not done.errors, done.errors
    assert not _exists(clients["lambda"], old)
    assert _exists(clients["lambda"], live) and _exists(clients["lambda"], stranger)
    assert _roles(clients["iam"]) == {f"{live}-role", f"{stranger}-role"}


def _vpc_function(moto: str, name: str, net: str) -> tuple[dict, str, str, str]:
    """(clients, name, subnet, ENI): an expired campaign's function and the network
    interface Lambda made for it in a subnet of `net`.0.0/16."""
    clients = {s: boto3.client(s, region_name=REGION, endpoint_url=moto)
               for s in ("lambda", "iam", "ec2")}
    _function(clients, name, "old-campaign", PAST)
    ec2 = clients["ec2"]
    vpc = ec2.create_vpc(CidrBlock=f"{net}.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"{net}.2.0/24")["Subnet"]["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=subnet, Description=(
        f"AWS Lambda VPC ENI-{name}-0a1b2c3d"))["NetworkInterface"]["NetworkInterfaceId"]
    return clients, name, subnet, eni


def test_a_vpc_functions_network_interfaces_are_awaited(moto):
    """Lambda releases a deleted function's ENIs later: the sweep waits for that, so the
    subnets and group after it can go. Here a thread plays Lambda: it removes the ENI only
    after it saw the function gone."""
    clients, name, subnet, eni = _vpc_function(moto, "bko-vpc-fn", "10.42")
    ec2 = clients["ec2"]
    other = ec2.create_network_interface(SubnetId=subnet, Description=(
        "AWS Lambda VPC ENI-another-function-99"))["NetworkInterface"]["NetworkInterfaceId"]
    events: list[str] = []

    def lambda_releases() -> None:
        end = time.monotonic() + 60
        while _exists(clients["lambda"], name) and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(0.5)
        events.append("eni released")
        ec2.delete_network_interface(NetworkInterfaceId=eni)

    releaser = threading.Thread(target=lambda_releases, daemon=True)
    releaser.start()
    inv = AwsInventory([REGION], endpoint_url=moto)
    inv.eni_wait = {"wait_s": 60.0, "poll_s": 0.1}
    fn = next(i for i in inv.leftovers() if i.kind == "lambda-function" and i.id == name)
    inv.delete(fn)
    events.append("delete returned")
    releaser.join(10)
    assert events == ["eni released", "delete returned"]
    left = {n["NetworkInterfaceId"] for n in ec2.describe_network_interfaces()[
        "NetworkInterfaces"]}
    assert eni not in left and other in left  # another function's ENI is not waited for


def test_enis_never_released_are_a_named_timeout(moto):
    _clients, _name, _subnet, eni = _vpc_function(moto, "bko-stuck-fn", "10.43")
    inv = AwsInventory([REGION], endpoint_url=moto)
    inv.eni_wait = {"wait_s": 0.3, "poll_s": 0.1}
    done = collect(inv, known_campaigns=set(), delete=True)
    failed = {item.kind: err for item, err in done.errors}
    assert eni in failed["lambda-function"] and "next gc sweep" in failed["lambda-function"]
    assert "iam-role" not in failed  # a failure is reported and the others go on


class _Denied:
    """A client whose every list call is refused, as IAM refuses a user without the
    right (the error shape botocore raises for a 403 AccessDenied answer)."""

    def __init__(self, service: str):
        self.service = service

    def get_paginator(self, op: str):
        from botocore.exceptions import ClientError

        code = "AccessDenied" if self.service == "iam" else "AccessDeniedException"
        raise ClientError({"Error": {"Code": code, "Message": f"not allowed: {op}"}}, op)


class _DenyingSession:
    def __init__(self, denied: set[str]):
        self.real, self.denied = boto3.session.Session(), denied

    def client(self, service: str, **kw):
        return _Denied(service) if service in self.denied else self.real.client(service, **kw)


def test_credentials_that_may_not_list_lambda_or_iam_still_sweep_ec2(moto):
    """A VM-only user's credentials: Lambda and IAM listings are refused. The EC2 part is
    still swept (the tagged security group is found), and the report names the kinds that
    were not looked for, instead of the whole AWS sweep being skipped."""
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=moto)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(
        GroupName="bko-old-sg", Description="t", VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [
            {"Key": k, "Value": v} for k, v in _tags("old-campaign", PAST).items()]}],
    )["GroupId"]
    inv = AwsInventory([REGION], session=_DenyingSession({"lambda", "iam"}),
                       endpoint_url=moto)
    report = collect(inv, known_campaigns=set())
    assert ("security-group", group) in {(v.item.kind, v.item.id) for v in report.verdicts}
    assert report.unlisted == [
        f"Lambda functions in {REGION}: AccessDeniedException (not allowed: list_functions)",
        "IAM instance profiles: AccessDenied (not allowed: list_instance_profiles)",
        "IAM roles: AccessDenied (not allowed: list_roles)"]
