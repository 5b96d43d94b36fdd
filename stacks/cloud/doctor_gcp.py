"""Preflight for GCP sites, as pulumi-gcp will see the account.

The project is the one pulumi-gcp reads: `GOOGLE_PROJECT`, `GOOGLE_CLOUD_PROJECT`,
`GCLOUD_PROJECT` or `CLOUDSDK_CORE_PROJECT` (its order). A project that only gcloud's
config names (what `google.auth.default()` falls back to) is reported with the export
that makes the provider see it. The APIs a site needs must be enabled (Service Usage):
Compute Engine always, Cloud SQL Admin and Service Networking for a database. Quotas per
region: `CPUS` and the machine family's `<FAMILY>_CPUS` for on-demand sites,
`PREEMPTIBLE_CPUS` for spot sites.
"""

from __future__ import annotations

import os
from collections import defaultdict
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
from stacks.cloud.spec import CloudSiteSpec

GCP_SDK = ("google.auth", "google.cloud.compute_v1", "pulumi_gcp")
PROJECT_ENV = ("GOOGLE_PROJECT", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT",
               "CLOUDSDK_CORE_PROJECT")
SERVICE_USAGE = "https://serviceusage.googleapis.com"
APIS = ("compute.googleapis.com",)
DB_APIS = ("sqladmin.googleapis.com", "servicenetworking.googleapis.com")
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


def provider_project() -> tuple[str | None, str]:
    """(project, the variable it came from) as pulumi-gcp reads it."""
    for var in PROJECT_ENV:
        if os.environ.get(var):
            return os.environ[var], var
    return None, ""


def _identity(credentials: Any) -> str:
    email = getattr(credentials, "service_account_email", None)
    if email and email != "default":
        return f"service account {email}"
    return f"{type(credentials).__name__} (Application Default Credentials)"


def check_gcp(sites: list[CloudSiteSpec], credentials: Any = None,
              project: str | None = None, client_options: dict[str, str] | None = None,
              session: Any = None, service_usage_url: str = SERVICE_USAGE,
              detect: Any = None) -> list[Check]:
    """Pulumi CLI, SDK, credentials and identity, project, APIs, CIDR, quotas."""
    from stacks.cloud.provisioner import detect_public_ip

    out = [check_pulumi_cli("gcp")]
    missing = missing_modules(GCP_SDK)
    if missing:
        return [*out, Check("gcp", "sdk", False, f"missing {', '.join(missing)}",
                            "pip install 'cloud-bakeoff[gcp]'")]
    out.append(Check("gcp", "sdk", True, "google-auth, google-cloud-compute, pulumi-gcp"))
    adc_project = None
    if credentials is None:
        import google.auth

        try:
            credentials, adc_project = google.auth.default(scopes=SCOPES)
        except Exception as e:
            out.append(Check("gcp", "credentials", False, first_line(e),
                             "run `gcloud auth application-default login` (or set "
                             "GOOGLE_APPLICATION_CREDENTIALS to a service-account key)"))
            return out
    out.append(Check("gcp", "credentials", True, _identity(credentials)))
    source = "--project" if project else ""
    if not project:
        project, source = provider_project()
    if not project:
        hint = f"export GOOGLE_PROJECT={adc_project}" if adc_project else \
            "export GOOGLE_PROJECT=<id>"
        out.append(Check("gcp", "project", False,
                         "none that pulumi-gcp reads" + (
                             f" (gcloud's config names {adc_project}; the provider does "
                             "not read it)" if adc_project else ""), hint))
        return out
    if session is None:
        from google.auth.transport.requests import AuthorizedSession

        session = AuthorizedSession(credentials)
    out.append(_apis(session, service_usage_url, project,
                     [*APIS, *(DB_APIS if any(s.database for s in sites) else ()),
                      *(("container.googleapis.com",) if any(s.kubernetes for s in sites)
                        else ())]))
    from google.cloud import compute_v1

    kw = {"credentials": credentials, "client_options": client_options}
    regions, types = compute_v1.RegionsClient(**kw), compute_v1.MachineTypesClient(**kw)
    quotas: dict[str, dict[str, tuple[float, float]]] = {}
    try:
        for region in vcpus_needed(sites):
            quotas[region] = {q.metric: (q.usage, q.limit)
                              for q in regions.get(project=project, region=region).quotas}
    except Exception as e:
        out.append(Check("gcp", "project", False, f"{project}: {first_line(e)}",
                         "check the project id and that the Compute Engine API is enabled"))
        return out
    out.append(Check("gcp", "project", True, f"{project} (from {source}) reachable"))
    out.append(check_cidr("gcp", sites, detect or detect_public_ip))
    zone_of = {s.region: s.zones[1] for s in sites}
    for spot in (False, True):
        for region, wanted in vcpus_needed(sites, spot=spot).items():
            out.extend(_quota(types, project, zone_of[region], region, wanted,
                              quotas[region], spot))
    return out


def _apis(session: Any, base: str, project: str, apis: list[str]) -> Check:
    disabled, unread = [], []
    for api in apis:
        try:
            r = session.get(f"{base}/v1/projects/{project}/services/{api}", timeout=30)
            r.raise_for_status()
            state = r.json().get("state")
        except Exception as e:
            unread.append(f"{api} ({first_line(e)})")
            continue
        if state != "ENABLED":
            disabled.append(api)
    if disabled:
        return Check("gcp", "APIs", False, "not enabled: " + ", ".join(disabled) + (
            "; could not read: " + "; ".join(unread) if unread else ""),
                     f"gcloud services enable {' '.join(disabled)} --project {project}")
    if unread:
        return unknown("gcp", "APIs", "could not read: " + "; ".join(unread),
                       "grant serviceusage.services.get (roles/serviceusage.serviceUsageViewer)")
    return Check("gcp", "APIs", True, "enabled: " + ", ".join(apis))


def _quota(types: Any, project: str, zone: str, region: str, wanted: dict[str, int],
           quotas: dict[str, tuple[float, float]], spot: bool) -> list[Check]:
    need: dict[str, int] = defaultdict(int)
    for name, count in wanted.items():
        try:
            cpus = types.get(project=project, zone=zone, machine_type=name).guest_cpus
        except Exception as e:
            return [Check("gcp", f"quota {region}", False, f"{name}: {first_line(e)}",
                          "pick a type listed by `gcloud compute machine-types list`")]
        # spot VMs use PREEMPTIBLE_CPUS where the region grants it, else the CPUS quota
        if spot and quotas.get("PREEMPTIBLE_CPUS", (0.0, 0.0))[1] > 0:
            need["PREEMPTIBLE_CPUS"] += cpus * count
            continue
        need["CPUS"] += cpus * count
        family = name.split("-", 1)[0].upper()
        if f"{family}_CPUS" in quotas:
            need[f"{family}_CPUS"] += cpus * count
    return [quota_check("gcp", region, metric, n, quotas.get(metric),
                        "request more under IAM & Admin > Quotas")
            for metric, n in need.items()]
