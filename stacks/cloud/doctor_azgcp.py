"""Preflight for Azure sites (GCP: doctor_gcp.py), as pulumi-azure-native will see them.

Each check says what it found and, when it fails, the exact fix. Checks stop at the
first one the rest depend on (no credentials: no quota question). The subscription is the
one azure-native reads, `ARM_SUBSCRIPTION_ID` (`AZURE_SUBSCRIPTION_ID` alone is named with
the export that fixes it). Quotas are compared with what the campaign's sites would start
per region: the regional total and the VM family for on-demand sites, `lowPriorityCores`
for spot sites; a quota the API does not report is "unknown", never ok.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from stacks.cloud.doctor_common import (
    Check,
    check_cidr,
    check_pulumi_cli,
    first_line,
    missing_modules,
    quota_check,
    unknown,
    vcpus_needed,
)
from stacks.cloud.doctor_gcp import check_gcp
from stacks.cloud.spec import CloudSiteSpec

__all__ = ["CHECKERS", "Check", "azure_subscription", "check_azure", "check_gcp",
           "vcpus_needed"]
AZURE_SCOPE = "https://management.azure.com/.default"
AZURE_PROVIDERS = ("Microsoft.Compute", "Microsoft.Network")
AZURE_DB_PROVIDER = "Microsoft.DBforPostgreSQL"
AZURE_SDK = ("azure.identity", "azure.mgmt.resource", "azure.mgmt.compute",
             "pulumi_azure_native")
SPOT_USAGE = "lowPriorityCores"


# ---------------------------------------------------------------- Azure


def azure_subscription() -> str | None:
    return os.environ.get("AZURE_SUBSCRIPTION_ID") or os.environ.get("ARM_SUBSCRIPTION_ID")


def _identity(token: str) -> str:
    """Who the token is for, from its claims (read, not verified: for display only)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return "DefaultAzureCredential got a token"
    who = claims.get("upn") or claims.get("unique_name") or claims.get("appid") or \
        claims.get("oid") or "?"
    return f"{who} (tenant {claims.get('tid', '?')})"


def check_azure(sites: list[CloudSiteSpec], credential: Any = None,
                subscription_id: str | None = None, detect: Any = None,
                **client_kwargs: Any) -> list[Check]:
    """Pulumi CLI, SDK, credentials and identity, subscription, resource providers,
    operator CIDR, on-demand and spot vCPU quota."""
    from stacks.cloud.provisioner import detect_public_ip

    out: list[Check] = [check_pulumi_cli("azure")]
    missing = missing_modules(AZURE_SDK)
    if missing:
        return [*out, Check("azure", "sdk", False, f"missing {', '.join(missing)}",
                            "pip install 'cloud-bakeoff[azure]'")]
    out.append(Check("azure", "sdk", True, "azure-identity, azure-mgmt, pulumi-azure-native"))
    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    quiet = logging.getLogger("azure.identity")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # its chain report is our detail
    try:
        token = credential.get_token(AZURE_SCOPE).token
    except Exception as e:
        out.append(Check("azure", "credentials", False, first_line(e),
                         "run `az login` (or set AZURE_CLIENT_ID, AZURE_TENANT_ID and "
                         "AZURE_CLIENT_SECRET for a service principal)"))
        return out
    finally:
        quiet.setLevel(level)
    out.append(Check("azure", "credentials", True, _identity(str(token))))
    sub = subscription_id or os.environ.get("ARM_SUBSCRIPTION_ID")
    if not sub:
        other = os.environ.get("AZURE_SUBSCRIPTION_ID")
        out.append(Check("azure", "subscription", False,
                         "ARM_SUBSCRIPTION_ID is not set (pulumi-azure-native reads it)"
                         + (f"; AZURE_SUBSCRIPTION_ID is {other}" if other else ""),
                         f"export ARM_SUBSCRIPTION_ID={other}" if other else
                         "export ARM_SUBSCRIPTION_ID=$(az account show --query id -o tsv)"))
        return out
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    rm = ResourceManagementClient(credential, sub, **client_kwargs)
    wanted = [*AZURE_PROVIDERS, *([AZURE_DB_PROVIDER] if any(s.database for s in sites)
                                  else []),
              *(["Microsoft.ContainerService"] if any(s.kubernetes for s in sites) else [])]
    try:
        states = {ns: rm.providers.get(ns).registration_state for ns in wanted}
    except Exception as e:
        out.append(Check("azure", "subscription", False, f"{sub}: {first_line(e)}",
                         "check the id and that your identity has Contributor on it"))
        return out
    out.append(Check("azure", "subscription", True, f"{sub} reachable"))
    unregistered = [ns for ns, state in states.items() if state != "Registered"]
    out.append(Check("azure", "resource providers", not unregistered,
                     "registered: " + ", ".join(wanted) if not unregistered
                     else "not registered: " + ", ".join(unregistered),
                     " && ".join(f"az provider register -n {ns}" for ns in unregistered)))
    out.append(check_cidr("azure", sites, detect or detect_public_ip))
    compute = ComputeManagementClient(credential, sub, **client_kwargs)
    for region in vcpus_needed(sites):
        out.extend(_azure_quota(compute, region, vcpus_needed(sites, spot=False)[region],
                                vcpus_needed(sites, spot=True)[region]))
    return out


def _azure_quota(compute: Any, region: str, types: dict[str, int],
                 spot_types: dict[str, int]) -> list[Check]:
    skus = {}
    every = {**types, **spot_types}
    try:
        for sku in compute.resource_skus.list(filter=f"location eq '{region}'"):
            if sku.resource_type == "virtualMachines" and sku.name in every:
                caps = {c.name: c.value for c in sku.capabilities or []}
                skus[sku.name] = (sku.family, int(caps.get("vCPUs", 0)))
        usage = {u.name.value: (u.current_value, u.limit) for u in compute.usage.list(region)}
    except Exception as e:
        return [unknown("azure", f"quota {region}", f"could not read: {first_line(e)}",
                        "grant Reader on the subscription to see quotas")]
    offered = sorted(set(every) - set(skus))
    if offered:
        return [Check("azure", f"quota {region}", False,
                      f"VM sizes not offered in {region}: {', '.join(offered)}",
                      "pick a size listed by `az vm list-skus -l REGION -o table`")]
    need: dict[str, int] = defaultdict(int)
    for name, count in types.items():
        family, cpus = skus[name]
        need["cores"] += cpus * count
        need[family] += cpus * count
    for name, count in spot_types.items():
        need[SPOT_USAGE] += skus[name][1] * count
    return [quota_check("azure", region, metric, n, usage.get(metric),
                        "request more in the portal: Subscriptions > Usage + quotas")
            for metric, n in need.items()]


CHECKERS: dict[str, Callable[..., list[Check]]] = {"azure": check_azure, "gcp": check_gcp}
