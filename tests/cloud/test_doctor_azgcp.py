"""doctor for Azure and GCP: without credentials (the real credential chains, kept off the
network), and with credentials against a local server of canned REST responses."""

from __future__ import annotations

import pytest
from azure.core.credentials import AccessToken
from azure.core.pipeline.policies import SansIOHTTPPolicy
from google.auth.credentials import AnonymousCredentials

from stacks.cloud.doctor_azgcp import check_azure, check_gcp
from stacks.cloud.spec import CloudSiteSpec, DatabaseSpec, DiskSpec
from tests.cloud.recorded_api import RecordedApi, load

SUB = "00000000-0000-0000-0000-0000000000aa"


def site(provider, region, zones, size, lg_size, loadgens=2, db=False) -> CloudSiteSpec:
    return CloudSiteSpec(
        campaign_id="c1", site=f"{provider}-site", provider=provider, region=region,
        zones=zones, instance_type=size, loadgen_count=loadgens, loadgen_instance_type=lg_size,
        disk=DiskSpec("Premium_LRS", 64), operator_cidr="203.0.113.7/32",
        ssh_public_key="ssh-ed25519 AAAA op", host_keys={}, expires_at="2026-11-27T18:00:00Z",
        owner="ana", database=DatabaseSpec("GP_Standard_D2ds_v5", 32) if db else None)


AZ = site("azure", "westeurope", ("1", "2"), "Standard_D4s_v5", "Standard_F2s_v2", db=True)
SPOT_AZ = site("azure", "westeurope", ("1", "2"), "Standard_F2s_v2", "Standard_F2s_v2",
               loadgens=0)
SPOT_AZ = CloudSiteSpec(**{**SPOT_AZ.__dict__, "site": "azure-spot", "spot": True})
GCP = site("gcp", "europe-west1", ("europe-west1-b", "europe-west1-c"), "n2-standard-4",
           "n2-standard-4")


def _jwt(claims: dict) -> str:
    """An access token's shape (header.payload.signature), claims as Entra ID writes them."""
    import base64
    import json

    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")  # noqa: E731
    return f"{enc({'typ': 'JWT', 'alg': 'RS256'})}.{enc(claims)}.c2ln"


class _Token:
    def get_token(self, *scopes, **kw):
        return AccessToken(_jwt({"upn": "ana@example.com", "tid": "t-1", "oid": "o-1"}),
                           2**31)


@pytest.fixture
def no_cloud_env(monkeypatch, tmp_path):
    """No credentials anywhere, and no metadata-server probes (nothing leaves the host)."""
    for var in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
                "AZURE_SUBSCRIPTION_ID", "ARM_SUBSCRIPTION_ID", "AZURE_FEDERATED_TOKEN_FILE",
                "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no az/azd/pwsh CLIs to ask


def test_azure_without_credentials_says_az_login(no_cloud_env):
    from azure.identity import DefaultAzureCredential

    cred = DefaultAzureCredential(exclude_managed_identity_credential=True)
    checks = check_azure([AZ], credential=cred)
    assert [c.name for c in checks] == ["Pulumi CLI", "sdk", "credentials"]
    assert not checks[0].ok and "get.pulumi.com" in checks[0].fix  # no pulumi on PATH
    assert checks[1].ok and not checks[2].ok
    assert "az login" in checks[2].fix


def test_gcp_without_credentials_says_adc_login(no_cloud_env):
    checks = check_gcp([GCP])
    assert [c.name for c in checks] == ["Pulumi CLI", "sdk", "credentials"]
    assert not checks[2].ok
    assert "gcloud auth application-default login" in checks[2].fix


def test_azure_subscription_must_be_chosen(no_cloud_env):
    checks = check_azure([AZ], credential=_Token())
    assert checks[-1].name == "subscription" and not checks[-1].ok
    assert "export ARM_SUBSCRIPTION_ID=" in checks[-1].fix


def test_azure_subscription_is_the_one_azure_native_reads(no_cloud_env, monkeypatch):
    """AZURE_SUBSCRIPTION_ID alone is not what pulumi-azure-native reads: named, with the
    export that fixes it."""
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUB)
    checks = check_azure([AZ], credential=_Token())
    assert checks[-1].name == "subscription" and not checks[-1].ok
    assert checks[-1].fix == f"export ARM_SUBSCRIPTION_ID={SUB}"


def test_azure_with_credentials_reports_providers_and_quota():
    with RecordedApi(load("azure-doctor.json")) as api:
        checks = check_azure([AZ, SPOT_AZ], credential=_Token(), subscription_id=SUB,
                             base_url=api.url, authentication_policy=SansIOHTTPPolicy(),
                             detect=lambda: "198.51.100.7")
    by = {c.name: c for c in checks}
    assert by["credentials"].ok and by["subscription"].ok
    assert by["credentials"].detail == "ana@example.com (tenant t-1)"
    assert by["operator CIDR"].ok and "198.51.100.7/32" in by["operator CIDR"].detail
    # the recorded usages have no lowPriorityCores row: unknown, never ok
    spot = by["quota westeurope lowPriorityCores"]
    assert spot.unknown and "needs 4 vCPUs" in spot.detail  # two F2s_v2 (2 vCPUs each)
    assert not by["resource providers"].ok
    assert by["resource providers"].fix == "az provider register -n Microsoft.DBforPostgreSQL"
    # Server and client: 2 x 4 vCPUs of DSv5 (6 free); two F2s_v2 load generators: 4 of 50.
    dsv5 = by["quota westeurope standardDSv5Family"]
    assert not dsv5.ok and "needs 8 vCPUs, 6 free of 10" in dsv5.detail and dsv5.fix
    assert by["quota westeurope standardFSv2Family"].ok
    assert by["quota westeurope cores"].ok and "needs 12" in by["quota westeurope cores"].detail


def test_azure_unknown_size_is_named():
    other = site("azure", "westeurope", ("1", "2"), "Standard_Z9_v9", "Standard_F2s_v2")
    with RecordedApi(load("azure-doctor.json")) as api:
        checks = check_azure([other], credential=_Token(), subscription_id=SUB,
                             base_url=api.url, authentication_policy=SansIOHTTPPolicy())
    (quota,) = [c for c in checks if c.name.startswith("quota")]
    assert not quota.ok and "Standard_Z9_v9" in quota.detail


def _services(**states: str) -> dict:
    """Service Usage answers (GET v1/projects/P/services/NAME) as the API shapes them."""
    return {f"GET /v1/projects/bko-test/services/{name}": {
        "name": f"projects/123/services/{name}", "parent": "projects/123", "state": state,
        "config": {"name": name}} for name, state in states.items()}


def _gcp_doctor(sites, **states):
    import requests

    with RecordedApi({**load("gcp-doctor.json"), **_services(**states)}) as api:
        return check_gcp(sites, credentials=AnonymousCredentials(), project="bko-test",
                         client_options={"api_endpoint": api.url}, session=requests.Session(),
                         service_usage_url=api.url, detect=lambda: None)


def test_gcp_required_apis_are_checked_and_unreadable_quota_is_unknown():
    db = CloudSiteSpec(**{**GCP.__dict__, "database": DatabaseSpec("db-custom-2-8192", 10)})
    by = {c.name: c for c in _gcp_doctor([db], **{"compute.googleapis.com": "ENABLED",
                                                   "sqladmin.googleapis.com": "DISABLED"})}
    apis = by["APIs"]
    assert not apis.ok and not apis.unknown
    assert "sqladmin.googleapis.com" in apis.detail
    assert "servicenetworking.googleapis.com" in apis.detail  # not recorded: 404, unread
    assert apis.fix.startswith("gcloud services enable sqladmin.googleapis.com")
    assert not by["operator CIDR"].ok  # nothing detected, nothing exported
    spot = CloudSiteSpec(**{**GCP.__dict__, "spot": True, "loadgen_count": 0})
    by = {c.name: c for c in _gcp_doctor([spot], **{"compute.googleapis.com": "ENABLED"})}
    assert by["APIs"].ok
    # no PREEMPTIBLE_CPUS in the region's quotas: spot VMs count against CPUS (8 of 20 free)
    assert by["quota europe-west1 CPUS"].ok and "needs 8 vCPUs" in by[
        "quota europe-west1 CPUS"].detail


def test_gcp_project_is_the_one_pulumi_gcp_reads(no_cloud_env, monkeypatch):
    from stacks.cloud.doctor_gcp import provider_project

    for var in ("GOOGLE_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    checks = check_gcp([GCP], credentials=AnonymousCredentials())
    assert checks[-1].name == "project" and not checks[-1].ok
    assert "GOOGLE_PROJECT" in checks[-1].fix
    monkeypatch.setenv("GCLOUD_PROJECT", "p-2")
    monkeypatch.setenv("GOOGLE_PROJECT", "p-1")
    assert provider_project() == ("p-1", "GOOGLE_PROJECT")  # pulumi-gcp's order


def test_gcp_with_credentials_reports_family_quota():
    with RecordedApi(load("gcp-doctor.json")) as api:
        checks = check_gcp([GCP], credentials=AnonymousCredentials(), project="bko-test",
                           client_options={"api_endpoint": api.url}, detect=lambda: None,
                           session=__import__("requests").Session(),
                           service_usage_url=api.url)
    by = {c.name: c for c in checks}
    assert by["project"].ok
    assert by["APIs"].unknown  # Service Usage not recorded here: unknown, not ok
    # Four n2-standard-4 VMs: 16 vCPUs; 20 CPUS free but only 8 N2_CPUS.
    assert by["quota europe-west1 CPUS"].ok
    n2 = by["quota europe-west1 N2_CPUS"]
    assert not n2.ok and "needs 16 vCPUs, 8 free of 8" in n2.detail


def test_gcp_unknown_project_fails_clearly():
    import requests

    with RecordedApi({}) as api:
        checks = check_gcp([GCP], credentials=AnonymousCredentials(), project="nope",
                           client_options={"api_endpoint": api.url},
                           session=requests.Session(), service_usage_url=api.url)
    assert checks[-1].name == "project" and not checks[-1].ok
    assert "Compute Engine API" in checks[-1].fix
