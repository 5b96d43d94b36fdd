"""Preflight for Azure and GCP sites: SDKs, credentials, subscription/project, vCPU quota.

Each check says what it found and, when it fails, the exact fix. Checks stop at the
first one the rest depend on (no credentials: no quota question). Quotas are compared with
what the campaign's sites would start: per region, the vCPUs of every VM (Azure: the
regional total and the VM family; GCP: CPUS and the family's <FAMILY>_CPUS metric).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from stacks.cloud.spec import CloudSiteSpec

AZURE_SCOPE = "https://management.azure.com/.default"
AZURE_PROVIDERS = ("Microsoft.Compute", "Microsoft.Network")
AZURE_DB_PROVIDER = "Microsoft.DBforPostgreSQL"
AZURE_SDK = ("azure.identity", "azure.mgmt.resource", "azure.mgmt.compute",
             "pulumi_azure_native")
GCP_SDK = ("google.auth", "google.cloud.compute_v1", "pulumi_gcp")


@dataclass(frozen=True)
class Check:
    provider: str
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _missing(modules: Iterable[str]) -> list[str]:
    out = []
    for m in modules:
        try:
            found = importlib.util.find_spec(m) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            out.append(m)
    return out


def vcpus_needed(sites: Iterable[CloudSiteSpec]) -> dict[str, dict[str, int]]:
    """region -> instance type -> number of VMs."""
    need: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for s in sites:
        need[s.region][s.instance_type] += 2
        if s.loadgen_count:
            need[s.region][s.loadgen_instance_type] += s.loadgen_count
    return need


# ---------------------------------------------------------------- Azure


def azure_subscription() -> str | None:
    return os.environ.get("AZURE_SUBSCRIPTION_ID") or os.environ.get("ARM_SUBSCRIPTION_ID")


def check_azure(sites: list[CloudSiteSpec], credential: Any = None,
                subscription_id: str | None = None, **client_kwargs: Any) -> list[Check]:
    """SDK, DefaultAzureCredential, subscription and providers, regional vCPU quota."""
    out: list[Check] = []
    missing = _missing(AZURE_SDK)
    if missing:
        return [Check("azure", "sdk", False, f"missing {', '.join(missing)}",
                      "pip install 'cloud-bakeoff[azure]'")]
    out.append(Check("azure", "sdk", True, "azure-identity, azure-mgmt, pulumi-azure-native"))
    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    quiet = logging.getLogger("azure.identity")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # its chain report is our detail
    try:
        credential.get_token(AZURE_SCOPE)
    except Exception as e:
        out.append(Check("azure", "credentials", False, _first_line(e),
                         "run `az login` (or set AZURE_CLIENT_ID, AZURE_TENANT_ID and "
                         "AZURE_CLIENT_SECRET for a service principal)"))
        return out
    finally:
        quiet.setLevel(level)
    out.append(Check("azure", "credentials", True, "DefaultAzureCredential got a token"))
    sub = subscription_id or azure_subscription()
    if not sub:
        out.append(Check("azure", "subscription", False, "no subscription chosen",
                         "export AZURE_SUBSCRIPTION_ID=<id> (`az account show --query id`)"))
        return out
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    rm = ResourceManagementClient(credential, sub, **client_kwargs)
    wanted = [*AZURE_PROVIDERS, *([AZURE_DB_PROVIDER] if any(s.database for s in sites)
                                  else [])]
    try:
        states = {ns: rm.providers.get(ns).registration_state for ns in wanted}
    except Exception as e:
        out.append(Check("azure", "subscription", False, f"{sub}: {_first_line(e)}",
                         "check the id and that your identity has Contributor on it"))
        return out
    out.append(Check("azure", "subscription", True, f"{sub} reachable"))
    unregistered = [ns for ns, state in states.items() if state != "Registered"]
    out.append(Check("azure", "resource providers", not unregistered,
                     "registered: " + ", ".join(wanted) if not unregistered
                     else "not registered: " + ", ".join(unregistered),
                     " && ".join(f"az provider register -n {ns}" for ns in unregistered)))
    compute = ComputeManagementClient(credential, sub, **client_kwargs)
    for region, types in vcpus_needed(sites).items():
        out.extend(_azure_quota(compute, region, types))
    return out


def _azure_quota(compute: Any, region: str, types: dict[str, int]) -> list[Check]:
    skus = {}
    try:
        for sku in compute.resource_skus.list(filter=f"location eq '{region}'"):
            if sku.resource_type == "virtualMachines" and sku.name in types:
                caps = {c.name: c.value for c in sku.capabilities or []}
                skus[sku.name] = (sku.family, int(caps.get("vCPUs", 0)))
        usage = {u.name.value: (u.current_value, u.limit) for u in compute.usage.list(region)}
    except Exception as e:
        return [Check("azure", f"quota {region}", False, _first_line(e),
                      "grant Reader on the subscription to see quotas")]
    unknown = sorted(set(types) - set(skus))
    if unknown:
        return [Check("azure", f"quota {region}", False,
                      f"VM sizes not offered in {region}: {', '.join(unknown)}",
                      "pick a size listed by `az vm list-skus -l REGION -o table`")]
    need: dict[str, int] = defaultdict(int)
    for name, count in types.items():
        family, cpus = skus[name]
        need["cores"] += cpus * count
        need[family] += cpus * count
    return [_quota_check("azure", region, metric, n, usage.get(metric),
                         "request more in the portal: Subscriptions > Usage + quotas")
            for metric, n in need.items()]


# ---------------------------------------------------------------- GCP


def check_gcp(sites: list[CloudSiteSpec], credentials: Any = None,
              project: str | None = None,
              client_options: dict[str, str] | None = None) -> list[Check]:
    """SDK, Application Default Credentials, project, regional CPU quota per family."""
    missing = _missing(GCP_SDK)
    if missing:
        return [Check("gcp", "sdk", False, f"missing {', '.join(missing)}",
                      "pip install 'cloud-bakeoff[gcp]'")]
    out = [Check("gcp", "sdk", True, "google-auth, google-cloud-compute, pulumi-gcp")]
    adc_project = None
    if credentials is None:
        import google.auth

        try:
            credentials, adc_project = google.auth.default(
                scopes=["https://www.googleapis.com/auth/cloud-platform"])
        except Exception as e:
            out.append(Check("gcp", "credentials", False, _first_line(e),
                             "run `gcloud auth application-default login` (or set "
                             "GOOGLE_APPLICATION_CREDENTIALS to a service-account key)"))
            return out
    out.append(Check("gcp", "credentials", True, "Application Default Credentials found"))
    project = project or os.environ.get("GOOGLE_CLOUD_PROJECT") or adc_project
    if not project:
        out.append(Check("gcp", "project", False, "no project chosen",
                         "export GOOGLE_CLOUD_PROJECT=<id> (or `gcloud config set project`)"))
        return out
    from google.cloud import compute_v1

    kw = {"credentials": credentials, "client_options": client_options}
    regions, types = compute_v1.RegionsClient(**kw), compute_v1.MachineTypesClient(**kw)
    zone_of = {s.region: s.zones[1] for s in sites}
    need = vcpus_needed(sites)
    quotas: dict[str, dict[str, tuple[float, float]]] = {}
    try:
        for region in need:
            quotas[region] = {q.metric: (q.usage, q.limit)
                              for q in regions.get(project=project, region=region).quotas}
    except Exception as e:
        out.append(Check("gcp", "project", False, f"{project}: {_first_line(e)}",
                         "enable the Compute Engine API and check the project id"))
        return out
    out.append(Check("gcp", "project", True, f"{project} reachable"))
    for region, wanted in need.items():
        out.extend(_gcp_quota(types, project, zone_of[region], region, wanted,
                              quotas[region]))
    return out


def _gcp_quota(types: Any, project: str, zone: str, region: str, wanted: dict[str, int],
               quotas: dict[str, tuple[float, float]]) -> list[Check]:
    need: dict[str, int] = defaultdict(int)
    for name, count in wanted.items():
        try:
            cpus = types.get(project=project, zone=zone, machine_type=name).guest_cpus
        except Exception as e:
            return [Check("gcp", f"quota {region}", False, f"{name}: {_first_line(e)}",
                          "pick a type listed by `gcloud compute machine-types list`")]
        need["CPUS"] += cpus * count
        family = name.split("-", 1)[0].upper()
        if f"{family}_CPUS" in quotas:
            need[f"{family}_CPUS"] += cpus * count
    return [_quota_check("gcp", region, metric, n, quotas.get(metric),
                         "request more under IAM & Admin > Quotas")
            for metric, n in need.items()]


# ---------------------------------------------------------------- shared


def _quota_check(provider: str, region: str, metric: str, need: int,
                 usage_limit: tuple[float, float] | None, fix: str) -> Check:
    name = f"quota {region} {metric}"
    if usage_limit is None:
        return Check(provider, name, True, f"needs {need} vCPUs; no quota reported")
    used, limit = usage_limit
    free = limit - used
    ok = free >= need
    return Check(provider, name, ok, f"needs {need} vCPUs, {free:g} free of {limit:g}",
                 "" if ok else fix)


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:300]


CHECKERS: dict[str, Callable[..., list[Check]]] = {"azure": check_azure, "gcp": check_gcp}
