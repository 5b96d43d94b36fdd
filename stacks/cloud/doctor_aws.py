"""Preflight for AWS sites (and what every Pulumi run needs): each check says the fix.

Checks: the Pulumi CLI and its version, the SDK extras, credentials (STS caller
identity), the operator CIDR SSH will be opened to, and per region the On-Demand vCPU
quota against the vCPUs the campaign's sites would start (Service Quotas, where the API
answers; otherwise the check says it could not tell). Credentials failing stops the
checks that need them.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterable
from typing import Any

from stacks.cloud.doctor_azgcp import Check, vcpus_needed
from stacks.cloud.spec import CloudSiteSpec
from stacks.cloud.workspace import MIN_PULUMI_CLI, pulumi_cli_version

AWS_SDK = ("pulumi", "pulumi_aws", "boto3", "asyncssh")
# Service Quotas: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" (vCPUs).
STANDARD_QUOTA = ("ec2", "L-1216C47A")
STANDARD_FAMILIES = tuple("acdhimrtz")


def check_pulumi_cli(provider: str = "pulumi") -> Check:
    version = pulumi_cli_version()
    want = ".".join(map(str, MIN_PULUMI_CLI))
    if version is None:
        return Check(provider, "Pulumi CLI", False, "not on PATH",
                     "curl -fsSL https://get.pulumi.com | sh, then open a new shell")
    got = ".".join(map(str, version))
    if version < MIN_PULUMI_CLI:
        return Check(provider, "Pulumi CLI", False, f"{got} (need >= {want})",
                     "pulumi self-update")
    return Check(provider, "Pulumi CLI", True, got)


def _sdk_check() -> Check:
    missing = []
    for m in AWS_SDK:
        try:
            if importlib.util.find_spec(m) is None:
                missing.append(m)
        except ModuleNotFoundError:
            missing.append(m)
    if missing:
        return Check("aws", "SDK extras", False, f"missing: {', '.join(missing)}",
                     "pip install 'cloud-bakeoff[aws,ssh]'")
    return Check("aws", "SDK extras", True, ", ".join(AWS_SDK))


def _cidr_check(sites: list[CloudSiteSpec], detect: Callable[[], str | None]) -> Check:
    from stacks.cloud.resolve import CIDR_ENV

    if os.environ.get(CIDR_ENV):
        return Check("aws", "operator CIDR", True, f"{os.environ[CIDR_ENV]} (from {CIDR_ENV})")
    ip = detect()
    if ip:
        return Check("aws", "operator CIDR", True, f"{ip}/32 (detected); SSH opens to it only")
    return Check("aws", "operator CIDR", False, "could not detect this machine's public address",
                 f"set ssh_cidr on the site or export {CIDR_ENV}=<your address>/32")


def _family(instance_type: str) -> str:
    return instance_type.split(".", 1)[0].lower()


def _quota_checks(session: Any, sites: list[CloudSiteSpec]) -> list[Check]:
    out = []
    for region, types in sorted(vcpus_needed(sites).items()):
        try:
            ec2 = session.client("ec2", region_name=region)
            info = ec2.describe_instance_types(InstanceTypes=sorted(types))["InstanceTypes"]
            vcpus = {i["InstanceType"]: i["VCpuInfo"]["DefaultVCpus"] for i in info}
            need = sum(vcpus.get(t, 0) * n for t, n in types.items()
                       if _family(t)[0] in STANDARD_FAMILIES)
            sq = session.client("service-quotas", region_name=region)
            quota = sq.get_service_quota(ServiceCode=STANDARD_QUOTA[0],
                                         QuotaCode=STANDARD_QUOTA[1])["Quota"]["Value"]
        except Exception as e:  # the API may be unavailable to this identity
            out.append(Check("aws", f"vCPU quota {region}", True,
                             f"could not check ({type(e).__name__}); needs "
                             f"{dict(types)}", ""))
            continue
        ok = need <= quota
        out.append(Check("aws", f"vCPU quota {region}", ok,
                         f"needs {need} standard vCPUs, quota {quota:g}",
                         "" if ok else "request an increase in the Service Quotas console "
                         f"(code {STANDARD_QUOTA[1]}) or use smaller types"))
    return out


def check_aws(sites: list[CloudSiteSpec], session: Any = None,
              detect: Callable[[], str | None] | None = None) -> list[Check]:
    """Every AWS check for the campaign's AWS site specs (may be empty: credentials only)."""
    from stacks.cloud.provisioner import detect_public_ip

    checks = [check_pulumi_cli("aws"), _sdk_check()]
    if not checks[1].ok and importlib.util.find_spec("boto3") is None:
        return checks
    import boto3
    import botocore.exceptions

    session = session or boto3.session.Session()
    region = (sites[0].region if sites else None) or session.region_name or "us-east-1"
    try:
        ident = session.client("sts", region_name=region).get_caller_identity()
    except (botocore.exceptions.NoCredentialsError,
            botocore.exceptions.PartialCredentialsError):
        checks.append(Check("aws", "credentials", False, "none found",
                             "aws configure (or aws sso login, or export AWS_PROFILE)"))
        return checks
    except botocore.exceptions.BotoCoreError as e:
        checks.append(Check("aws", "credentials", False, f"{type(e).__name__}: {e}",
                             "check the network and AWS_PROFILE / AWS_REGION"))
        return checks
    except botocore.exceptions.ClientError as e:
        checks.append(Check("aws", "credentials", False, e.response["Error"].get("Message", ""),
                             "refresh the credentials (aws sso login / new access key)"))
        return checks
    checks.append(Check("aws", "credentials", True,
                        f"{ident['Arn']} (account {ident['Account']})"))
    checks.append(_cidr_check(sites, detect or detect_public_ip))
    checks.extend(_quota_checks(session, sites))
    return checks


def problems_of(checks: Iterable[Check]) -> list[str]:
    return [f"{c.name}: {c.detail}" + (f" (fix: {c.fix})" if c.fix else "")
            for c in checks if not c.ok]
