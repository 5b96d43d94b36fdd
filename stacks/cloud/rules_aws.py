"""AWS rules: what EC2 and RDS refuse that Pulumi mocks accept (see stacks/cloud/rules.py).

Each rule cites the AWS page that states it. Limits that AWS raised over time carry the
date of the page read (EBS gp3 limits: raised in September 2025).
"""

from __future__ import annotations

import re
from typing import Any

from stacks.cloud import rules_k8s as k8s
from stacks.cloud.aws import arch_of
from stacks.cloud.rules import (
    Resource,
    Rule,
    Violation,
    charset,
    number,
    password_classes,
    tag_map,
    text,
)
from stacks.cloud.spec import CloudSiteSpec

SG = "aws:ec2/securityGroup:SecurityGroup"
INSTANCE = "aws:ec2/instance:Instance"
RDS = "aws:rds/instance:Instance"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
KEY_PAIR = "aws:ec2/keyPair:KeyPair"

# Security group names, descriptions and rule descriptions (EC2-VPC).
SG_CHARS = r"a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*"
SG_SRC = ("https://docs.aws.amazon.com/AWSEC2/latest/APIReference/"
          "API_CreateSecurityGroup.html (GroupDescription, GroupName); "
          "API_IpRange.html (Description)")
TAG_SRC = "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html"
TAG_CHARS = r"\w .:/=+\-@"  # letters and numbers in UTF-8, spaces and + - = . _ : / @
RDS_SRC = ("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
           "CHAP_Limits.html#RDS_Limits.Constraints")
EBS_SRC = ("https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html and "
           "provisioned-iops.html (read 2026-12)")
USERDATA_SRC = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html"

# Which input holds the physical name; absent: Pulumi auto-names from the logical name.
NAME_PROPERTY = {SG: "name", KEY_PAIR: "keyName", RDS: "identifier", SUBNET_GROUP: "name"}
SERVICES: dict[str, str] = {}  # nothing to enable: EC2 and RDS are on in every account

_ALL_TAGGED = ("*",)


def _no_aws_prefix(tags: Any) -> str | None:
    if isinstance(tags, dict):
        for k in tags:
            if isinstance(k, str) and k.lower().startswith("aws:"):
                return f"key {k!r} uses the reserved prefix 'aws:'"
    return None


def _rds_identifier(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    if "--" in value or value.endswith("-"):
        return "two consecutive hyphens or a trailing hyphen"
    return text(r"[a-zA-Z][a-zA-Z0-9-]*", 63)(value)


def _userdata_size(value: Any) -> str | None:
    if isinstance(value, str) and len(value.encode()) > 16384:
        return f"{len(value.encode())} bytes, at most 16384 before base64 encoding"
    return None


def _ebs(volume: Any) -> str | None:
    """gp3: 1..65536 GiB, 3000..80000 IOPS and <= 500 per GiB, 125..2000 MiB/s and <= 0.25
    MiB/s per IOPS; io2: 4..65536 GiB, 100..256000 IOPS and <= 1000 per GiB."""
    if not isinstance(volume, dict):
        return None
    kind, size = volume.get("volumeType"), volume.get("volumeSize") or 0
    iops, mbps = volume.get("iops"), volume.get("throughput")
    if kind == "gp3":
        checks = [number(1, 65536)(size), iops and number(3000, 80000)(iops),
                  mbps and number(125, 2000)(mbps)]
        if iops and size and iops > 500 * size:
            checks.append(f"{iops} IOPS on {size} GiB exceeds 500 IOPS per GiB")
        if mbps and mbps > 0.25 * (iops or 3000):
            checks.append(f"{mbps} MiB/s exceeds 0.25 MiB/s per provisioned IOPS")
    elif kind == "io2":
        checks = [number(4, 65536)(size), iops is None and "io2 needs iops",
                  iops and number(100, 256000)(iops)]
        if iops and size and iops > 1000 * size:
            checks.append(f"{iops} IOPS on {size} GiB exceeds 1000 IOPS per GiB")
    else:
        checks = []
    problems = [c for c in checks if c]
    return "; ".join(problems) or None


RULES = [
    Rule((SG,), "description", charset(SG_CHARS, 255, 1),
         "security group description: up to 255 of a-zA-Z0-9 ._-:/()#,@[]+=&;{}!$*", SG_SRC),
    Rule((SG,), "ingress[].description", charset(SG_CHARS, 255),
         "rule description: up to 255 of a-zA-Z0-9 ._-:/()#,@[]+=&;{}!$*", SG_SRC),
    Rule((SG,), "egress[].description", charset(SG_CHARS, 255),
         "rule description: up to 255 of a-zA-Z0-9 ._-:/()#,@[]+=&;{}!$*", SG_SRC),
    Rule((SG,), "@name", text(rf"(?!sg-)[{SG_CHARS}]+", 255),
         "security group name: up to 255 of the description characters, not 'sg-...'",
         SG_SRC),
    Rule(_ALL_TAGGED, "tags", tag_map(charset(TAG_CHARS, 128, 1), charset(TAG_CHARS, 256),
                                      50),
         "tags: at most 50; key 1..128, value 0..256 characters of letters, digits, "
         "spaces and + - = . _ : / @", TAG_SRC),
    Rule(_ALL_TAGGED, "tags", _no_aws_prefix, "tag keys may not begin with 'aws:'", TAG_SRC),
    Rule((INSTANCE,), "rootBlockDevice.tags",
         tag_map(charset(TAG_CHARS, 128, 1), charset(TAG_CHARS, 256), 50),
         "volume tags: as instance tags", TAG_SRC),
    Rule((INSTANCE,), "ebsBlockDevices[].tags",
         tag_map(charset(TAG_CHARS, 128, 1), charset(TAG_CHARS, 256), 50),
         "volume tags: as instance tags", TAG_SRC),
    Rule((INSTANCE,), "ebsBlockDevices[]", _ebs,
         "EBS gp3/io2 size, IOPS and throughput limits and ratios", EBS_SRC),
    Rule((INSTANCE,), "userData", _userdata_size, "user data: at most 16 KB, raw",
         USERDATA_SRC),
    Rule((KEY_PAIR,), "@name", text(r"[\x20-\x7e]+", 255), "key pair name: up to 255 ASCII "
         "characters", "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/"
         "API_ImportKeyPair.html"),
    Rule((RDS,), "@name", _rds_identifier,
         "DB instance identifier: 1..63 letters, digits or hyphens, first a letter, no "
         "'--', no trailing hyphen", RDS_SRC),
    Rule((RDS,), "dbName", text(r"[A-Za-z_][A-Za-z0-9_]*", 63),
         "PostgreSQL database name: 1..63 letters, digits, underscores; not a digit first",
         RDS_SRC),
    Rule((RDS,), "username", text(r"[A-Za-z][A-Za-z0-9_]*", 63),
         "PostgreSQL master user: 1..63 letters, digits, underscores; first a letter",
         RDS_SRC),
    Rule((RDS,), "password", password_classes(8, 128, 0, "/'\"@ "),
         "master password: 8..128 printable ASCII, not / ' \" @ or space", RDS_SRC),
    Rule((RDS,), "instanceClass", text(r"db\.[a-z0-9]+\.[a-z0-9]+", 40),
         "DB instance class: db.<family>.<size>", RDS_SRC),
    Rule((SUBNET_GROUP,), "@name", text(r"(?!default$)[a-z0-9 ._-]+", 255),
         "DB subnet group name: up to 255 lowercase letters, digits, spaces, '.', '_', '-'",
         "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/"
         "API_CreateDBSubnetGroup.html"),
]

RULES += k8s.AWS_RULES  # cluster sites (stacks/cloud/rules_k8s.py)
NAME_PROPERTY.update(k8s.AWS_NAMES)


def site_rules(spec: CloudSiteSpec, resources: list[Resource]) -> list[Violation]:
    """Zones in the region, image architecture = instance architecture, Multi-AZ placement
    (passwords are properties: secrets are judged unwrapped, see rules.unwrap_secrets)."""
    out = []
    zone_re = re.compile(rf"{re.escape(spec.region)}[a-z]")
    for r in resources:
        p = r.properties
        if r.type == INSTANCE:
            zone = p.get("availabilityZone")
            if isinstance(zone, str) and not zone_re.fullmatch(zone):
                out.append(Violation(r.name, r.type, "availabilityZone", zone,
                                     f"not a zone of region {spec.region}",
                                     "zone = region + letter", "https://docs.aws.amazon.com/"
                                     "AWSEC2/latest/UserGuide/using-regions-availability-"
                                     "zones.html"))
            ami, itype = p.get("ami"), p.get("instanceType")
            m = re.fullmatch(r"ami-preview-(arm64|x86_64)", str(ami))
            want = "arm64" if isinstance(itype, str) and arch_of(itype) == "arm64" else "x86_64"
            if m and m.group(1) != want:
                out.append(Violation(r.name, r.type, "ami", ami,
                                     f"{m.group(1)} image on {itype} ({want})",
                                     "the AMI's architecture must be the instance type's",
                                     "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/"
                                     "instance-types.html#instance-hardware-specs"))
        if r.type == RDS and p.get("multiAz") and p.get("availabilityZone"):
            out.append(Violation(r.name, r.type, "availabilityZone", p["availabilityZone"],
                                 "a Multi-AZ instance may not name a zone",
                                 "RDS picks the primary's zone for Multi-AZ", RDS_SRC))
    return out
