"""AWS function site: the VM site (stacks/cloud/aws.py) plus a Lambda behind a function URL.

The Lambda runs the packed reference handler (stacks/cloud/fn_package.py) with the
site's tags. With `vpc: true` it is attached to two private subnets of the site's VPC
(the 3rd and 4th /24; their route table is the VPC's main table, which routes only inside
the VPC) with its own security group; the database's security group already admits
PostgreSQL from the VPC's CIDR, so the function reaches RDS and the downstream API on the
server VM over private addresses, and nothing else. The role gets the basic execution
policy and, in a VPC, the VPC access policy (ENIs).

Names: the function's is explicit (Lambda: 1..64 of a-z A-Z 0-9 '-' '_',
https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html#lambda-CreateFunction-request-FunctionName,
checked by stacks/cloud/rules_fn.py).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws

from stacks.cloud.fn_common import (
    deploy_of,
    function_env,
    function_output,
    package_for,
    runtime_id,
    short_name,
)
from stacks.cloud.fn_node import LAMBDA_HANDLER
from stacks.cloud.spec import CloudSiteSpec

BASIC_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
VPC_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
ASSUME = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})


def function_subnet_cidrs(network_cidr: str) -> tuple[str, str]:
    """The 3rd and 4th /24 of the VPC (the VM program uses the first two)."""
    nets = list(ipaddress.ip_network(network_cidr).subnets(new_prefix=24))
    return str(nets[2]), str(nets[3])


def program(spec: CloudSiteSpec, vm_program: Callable[[CloudSiteSpec], Any]) -> None:
    parts = vm_program(spec)
    fn = deploy_of(spec)
    tags = spec.tags()
    opts = pulumi.ResourceOptions(provider=parts["provider"])

    def named(suffix: str) -> dict[str, str]:
        return {**tags, "Name": spec.resource_name(suffix)}

    role = aws.iam.Role(spec.resource_name("fn-role"), assume_role_policy=ASSUME,
                        tags=named("fn-role"), opts=opts)
    policies = [BASIC_POLICY, *([VPC_POLICY] if fn.vpc else [])]
    attached = [aws.iam.RolePolicyAttachment(spec.resource_name(f"fn-policy-{i}"),
                                             role=role.name, policy_arn=arn, opts=opts)
                for i, arn in enumerate(policies)]
    vpc_config = None
    if fn.vpc:
        subnets = [aws.ec2.Subnet(spec.resource_name(f"fn-subnet-{i}"),
                                  vpc_id=parts["vpc"].id, cidr_block=cidr,
                                  availability_zone=zone, map_public_ip_on_launch=False,
                                  tags=named(f"fn-subnet-{i}"), opts=opts)
                   for i, (zone, cidr) in enumerate(zip(
                       spec.zones, function_subnet_cidrs(spec.network_cidr), strict=True))]
        sg = aws.ec2.SecurityGroup(
            spec.resource_name("fn-sg"), vpc_id=parts["vpc"].id,
            description="bakeoff: the function reaches the site only (PostgreSQL, downstream)",
            egress=[aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=0,
                                                    to_port=65535,
                                                    cidr_blocks=[spec.network_cidr],
                                                    description="inside the VPC only")],
            tags=named("fn-sg"), opts=opts)
        vpc_config = aws.lambda_.FunctionVpcConfigArgs(subnet_ids=[s.id for s in subnets],
                                                       security_group_ids=[sg.id])
    package = package_for(spec)
    server_ip = parts["hosts"]["server"].apply(lambda h: h["private_ip"])
    env = function_env(spec, parts["database"], server_ip)
    name = short_name(spec, "fn", 64)
    function = aws.lambda_.Function(
        spec.resource_name("fn"), name=name, role=role.arn,
        runtime=runtime_id("aws", fn.runtime),
        handler=LAMBDA_HANDLER if fn.runtime == "node" else "lambda_function.handler",
        code=pulumi.FileArchive(str(package.path)), source_code_hash=package.sha256,
        memory_size=fn.memory_mb, timeout=fn.timeout_s,
        # no reserved concurrency: an account must keep 100 unreserved ("you can reserve up
        # to the unreserved account concurrency minus 100",
        # https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html) and
        # new accounts may have less than that in all, so reserving any fails there; the
        # account's concurrency caps the function instead (docs/serverless.md)
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=pulumi.Output.secret(env)),
        vpc_config=vpc_config, tags=named("fn"),
        opts=pulumi.ResourceOptions(provider=parts["provider"], depends_on=attached))
    url = aws.lambda_.FunctionUrl(spec.resource_name("fn-url"), function_name=function.name,
                                  authorization_type="NONE", opts=opts)
    aws.lambda_.Permission(spec.resource_name("fn-public"), function=function.name,
                           action="lambda:InvokeFunctionUrl", principal="*",
                           function_url_auth_type="NONE", opts=opts)
    cold = {"method": "lambda-update-function-configuration", "region": spec.region,
            "function_name": name}
    pulumi.export("function", function_output(
        spec, url.function_url.apply(lambda u: (u or "").rstrip("/")), name, cold, package))

