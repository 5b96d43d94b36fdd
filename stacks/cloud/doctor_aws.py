"""Preflight for AWS sites (and what every Pulumi run needs): each check says the fix.

Checks: the Pulumi CLI and its version, the SDK extras, credentials (STS caller
identity), the operator CIDR SSH will be opened to, and per region the On-Demand and the
Spot vCPU quotas against the vCPUs the campaign's sites would start (Service Quotas; a
quota the API does not answer is "unknown", never ok). Credentials failing stops the
checks that need them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable
from typing import Any

from core.errors import PrerequisiteError
from stacks.cloud.doctor_common import (
    Check,
    check_cidr,
    check_pulumi_cli,
    unknown,
    vcpus_needed,
)
from stacks.cloud.spec import CloudSiteSpec

AWS_SDK = ("pulumi", "pulumi_aws", "boto3", "asyncssh")
# Service Quotas: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" (vCPUs).
STANDARD_QUOTA = ("ec2", "L-1216C47A")
# "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests" (vCPUs).
SPOT_QUOTA = ("ec2", "L-34B43A08")
STANDARD_FAMILIES = tuple("acdhimrtz")


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


def _family(instance_type: str) -> str:
    return instance_type.split(".", 1)[0].lower()


def _quota_checks(session: Any, sites: list[CloudSiteSpec]) -> list[Check]:
    out = []
    for spot, (code, label) in ((False, (STANDARD_QUOTA, "vCPU quota")),
                                (True, (SPOT_QUOTA, "spot vCPU quota"))):
        for region, types in sorted(vcpus_needed(sites, spot=spot).items()):
            name = f"{label} {region}"
            try:
                ec2 = session.client("ec2", region_name=region)
                info = ec2.describe_instance_types(InstanceTypes=sorted(types))["InstanceTypes"]
                vcpus = {i["InstanceType"]: i["VCpuInfo"]["DefaultVCpus"] for i in info}
                need = sum(vcpus.get(t, 0) * n for t, n in types.items()
                           if _family(t)[0] in STANDARD_FAMILIES)
                sq = session.client("service-quotas", region_name=region)
                quota = sq.get_service_quota(ServiceCode=code[0],
                                             QuotaCode=code[1])["Quota"]["Value"]
            except Exception as e:  # the API may be unavailable to this identity
                out.append(unknown("aws", name, f"could not read ({type(e).__name__}); "
                                   f"needs {dict(types)}",
                                   "allow servicequotas:GetServiceQuota to check it"))
                continue
            ok = need <= quota
            out.append(Check("aws", name, ok,
                             f"needs {need} standard vCPUs, quota {quota:g}",
                             "" if ok else "request an increase in the Service Quotas "
                             f"console (code {code[1]}) or use smaller types"))
    return out


def check_aws(sites: list[CloudSiteSpec], session: Any = None,
              detect: Callable[[], str | None] | None = None) -> list[Check]:
    """Every AWS check for the campaign's AWS site specs (may be empty: credentials only)."""
    from stacks.cloud.provisioner import detect_public_ip

    checks = [check_pulumi_cli("aws"), _sdk_check()]
    if not checks[1].ok and importlib.util.find_spec("boto3") is None:
        return checks
    import botocore.exceptions

    if session is None:
        from stacks.cloud.aws_session import aws_session

        try:
            session = aws_session()
        except PrerequisiteError as e:
            checks.append(Check("aws", "credentials", False, str(e).split("; fix: ")[0],
                                "unset AWS_PROFILE, or aws configure --profile NAME"))
            return checks
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
    checks.append(check_cidr("aws", sites, detect or detect_public_ip))
    checks.extend(_quota_checks(session, sites))
    return checks


def problems_of(checks: Iterable[Check]) -> list[str]:
    return [f"{c.name}: {c.detail}" + (f" (fix: {c.fix})" if c.fix else "")
            for c in checks if not c.ok]
