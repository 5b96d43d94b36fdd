"""Pulumi mocks for the AWS program that answer as EC2 would, by rules a program can fail.

The preview mocks (stacks/cloud/preview.py) serve `bakeoff plan`: any image lookup gets
"ami-preview-<arch>" and every instance the same invented private address, so a test on
them cannot tell a right lookup from a wrong one. These answer from rules instead:

- `getAmi` filters a table of published images the way DescribeImages does: `owners`
  (account ids), `name` with `*`/`?` wildcards, `architecture`; `most_recent` picks the
  newest creation date; several matches without it, or none, is the provider's error. The
  table holds a newer image with the same Ubuntu name from another account (anyone can
  publish one), so a lookup without Canonical's owner id gets that one.
- A subnet's CIDR must lie inside its VPC's (EC2: InvalidSubnet.Range).
- An instance must name a known subnet in its own availability zone, an image that exists,
  of the instance type's architecture (EC2 refuses each). Its private address is the next
  free one of that subnet, after the 4 EC2 reserves at the start (the last is reserved
  too); a public address only when `associatePublicIpAddress` asks for one.

Sources: EC2 User Guide, "Subnet CIDR blocks" (the first four and the last address of a
subnet are reserved), "Find an AMI" / DescribeImages filters (`name` accepts * and ?);
the pulumi-aws `getAmi` docs ("Your query returned no results", "more than one result ...
set most_recent"). Canonical's account id 099720109477: Ubuntu's "Find Ubuntu images on
AWS" page.
"""

from __future__ import annotations

import asyncio
import fnmatch
import gc
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

CANONICAL = "099720109477"
OTHER_ACCOUNT = "210987654321"  # someone else's copy under the same name

# (imageId, ownerId, name, architecture, creationDate): what DescribeImages would list.
IMAGES = [
    ("ami-0c1a5c2a7e1d20240", CANONICAL,
     "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240423", "x86_64",
     "2024-04-23T10:00:00.000Z"),
    ("ami-0c1a5c2a7e1d20251", CANONICAL,
     "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20251021", "x86_64",
     "2025-10-21T10:00:00.000Z"),
    ("ami-0a2b3c4d5e6f20251", CANONICAL,
     "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20251021", "arm64",
     "2025-10-21T10:00:00.000Z"),
    ("ami-0f0e0d0c0b0a20250", CANONICAL,
     "ubuntu/images/hvm-ssd-gp3/ubuntu-jammy-22.04-amd64-server-20251101", "x86_64",
     "2025-11-01T10:00:00.000Z"),
    ("ami-0badc0ffee0020261", OTHER_ACCOUNT,
     "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20261101", "x86_64",
     "2026-11-01T10:00:00.000Z"),
]
# The images the program must end up with, per architecture.
EXPECTED_IMAGE = {"x86_64": "ami-0c1a5c2a7e1d20251", "arm64": "ami-0a2b3c4d5e6f20251"}


class AwsApiError(Exception):
    """What EC2 (or the provider's data source) would answer instead of a resource."""


def _arch(instance_type: str) -> str:
    family = instance_type.split(".", 1)[0]
    # Graviton: a 'g' after the generation digit (c7g, m6gd, t4g); the EC2 instance-types
    # page lists their processor as arm64
    return "arm64" if re.fullmatch(r"[a-z]+\d+g[a-z]*", family) else "x86_64"


def describe_images(args: dict[str, Any]) -> dict[str, Any]:
    """The getAmi data source over IMAGES, by its documented filter rules."""
    owners = args.get("owners")
    found = [img for img in IMAGES if not owners or img[1] in owners]
    for flt in args.get("filters") or []:
        values = flt.get("values") or []
        if flt.get("name") == "name":
            found = [i for i in found if any(fnmatch.fnmatchcase(i[2], v) for v in values)]
        elif flt.get("name") == "architecture":
            found = [i for i in found if i[3] in values]
        else:
            raise AwsApiError(f"getAmi: filter {flt.get('name')!r} is not modelled here")
    if not found:
        raise AwsApiError("Your query returned no results. Please change your search criteria "
                          "and try again.")
    if len(found) > 1 and not args.get("mostRecent"):
        raise AwsApiError("Your query returned more than one result. Please try a more "
                          "specific search criteria, or set `most_recent` attribute to true.")
    image_id, owner, name, arch, created = max(found, key=lambda i: i[4])
    return {"id": image_id, "imageId": image_id, "ownerId": owner, "name": name,
            "architecture": arch, "creationDate": created}


@dataclass
class Ec2:
    """The state the rules need: VPCs, subnets, addresses handed out, images looked up."""

    vpcs: dict[str, ipaddress.IPv4Network] = field(default_factory=dict)
    subnets: dict[str, tuple[ipaddress.IPv4Network, str]] = field(default_factory=dict)
    used: dict[str, int] = field(default_factory=dict)
    public: int = 0
    resources: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    lookups: list[dict[str, Any]] = field(default_factory=list)

    def subnet(self, name: str, inputs: dict[str, Any]) -> None:
        cidr = ipaddress.ip_network(inputs["cidrBlock"])
        vpc = self.vpcs.get(str(inputs.get("vpcId")))
        if vpc is None or not cidr.subnet_of(vpc):
            raise AwsApiError(f"InvalidSubnet.Range: the CIDR '{cidr}' is invalid for VPC "
                              f"{inputs.get('vpcId')} ({vpc})")
        self.subnets[f"{name}-id"] = (cidr, str(inputs.get("availabilityZone")))

    def instance(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        subnet_id = str(inputs.get("subnetId"))
        if subnet_id not in self.subnets:
            raise AwsApiError(f"InvalidSubnetID.NotFound: The subnet ID '{subnet_id}' does "
                              "not exist")
        cidr, zone = self.subnets[subnet_id]
        if inputs.get("availabilityZone") not in (None, zone):
            raise AwsApiError(f"InvalidParameterValue: subnet {subnet_id} is in {zone}, not "
                              f"{inputs['availabilityZone']}")
        image = next((i for i in IMAGES if i[0] == inputs.get("ami")), None)
        if image is None:
            raise AwsApiError(f"InvalidAMIID.NotFound: The image id '[{inputs.get('ami')}]' "
                              "does not exist")
        want = _arch(str(inputs.get("instanceType")))
        if image[3] != want:
            raise AwsApiError(f"InvalidParameterValue: The architecture '{want}' of the "
                              f"specified instance type does not match the architecture "
                              f"'{image[3]}' of the specified AMI")
        n = self.used.get(subnet_id, 3) + 1  # .0-.3 reserved
        if n >= cidr.num_addresses - 1:  # the last is reserved too
            raise AwsApiError(f"InsufficientFreeAddressesInSubnet: {subnet_id}")
        self.used[subnet_id] = n
        state = {"privateIp": str(cidr.network_address + n), "availabilityZone": zone,
                 "arn": f"arn:aws:ec2:::instance/{name}"}
        if inputs.get("associatePublicIpAddress"):
            self.public += 1
            state["publicIp"] = str(ipaddress.ip_address("203.0.113.0") + self.public)
        return state


def mocks_class() -> type:
    import pulumi

    class StrictAwsMocks(pulumi.runtime.Mocks):
        def __init__(self) -> None:
            self.ec2 = Ec2()

        def new_resource(self, args: Any) -> tuple[str, dict]:
            inputs = dict(args.inputs)
            self.ec2.resources.append((args.typ, args.name, inputs))
            state: dict[str, Any] = dict(inputs)
            if args.typ == "aws:ec2/vpc:Vpc":
                self.ec2.vpcs[f"{args.name}-id"] = ipaddress.ip_network(inputs["cidrBlock"])
            elif args.typ == "aws:ec2/subnet:Subnet":
                self.ec2.subnet(args.name, inputs)
            elif args.typ == "aws:ec2/instance:Instance":
                state.update(self.ec2.instance(args.name, inputs))
            elif args.typ == "aws:ec2/keyPair:KeyPair":
                state.setdefault("keyName", args.name)
            elif args.typ == "aws:rds/instance:Instance":
                state.update(address=f"{args.name}.c9akciq32.rds.amazonaws.com", port=5432)
            return f"{args.name}-id", state

        def call(self, args: Any) -> tuple[dict, list]:
            if args.token == "aws:ec2/getAmi:getAmi":
                self.ec2.lookups.append(dict(args.args))
                return describe_images(dict(args.args)), []
            raise AwsApiError(f"invoke {args.token} is not modelled here")

    return StrictAwsMocks


def run(program: Any, spec: Any) -> tuple[Ec2, dict[str, Any]]:
    """Declare `spec` with `program` under the strict mocks; the EC2 state and the outputs.
    Raises what the program (or a refused call) raises."""
    import pulumi
    from pulumi.runtime import mocks as pmocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from stacks.cloud.preview import _lock

    with _lock:  # the Pulumi runtime is global: one program at a time (as preview does)
        try:
            asyncio.get_event_loop()
        except RuntimeError:
            asyncio.set_event_loop(asyncio.new_event_loop())
        mocks = mocks_class()()
        pmocks.SETTINGS.rpc_manager.clear()
        pmocks.SETTINGS.outputs.clear()
        pulumi.runtime.set_mocks(mocks, project="bakeoff",
                                 stack=f"{spec.campaign_id}-{spec.site}", preview=False)
        root = pulumi.runtime.get_root_resource()
        try:
            _sync_await(run_pulumi_func(lambda: program(spec)))
        except AwsApiError as e:
            # The failed run leaves coroutines for the garbage collector; collected later,
            # in the middle of a compile(), they trip CPython 3.11's "AST constructor
            # recursion depth mismatch" (python/cpython#106905). Collect them now.
            message = str(e)
        else:
            message = ""
        if message:
            gc.collect()
            raise AwsApiError(message)
        outputs = {k: _sync_await(pulumi.Output.from_input(v).future())
                   for k, v in dict(getattr(root, "outputs", {}) or {}).items()}
        return mocks.ec2, outputs
