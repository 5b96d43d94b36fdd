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
GCP = site("gcp", "europe-west1", ("europe-west1-b", "europe-west1-c"), "n2-standard-4",
           "n2-standard-4")


class _Token:
    def get_token(self, *scopes, **kw):
        return AccessToken("test-token", 2**31)


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
    assert [c.name for c in checks] == ["sdk", "credentials"]
    assert checks[0].ok and not checks[1].ok
    assert "az login" in checks[1].fix


def test_gcp_without_credentials_says_adc_login(no_cloud_env):
    checks = check_gcp([GCP])
    assert [c.name for c in checks] == ["sdk", "credentials"]
    assert not checks[1].ok
    assert "gcloud auth application-default login" in checks[1].fix


def test_azure_subscription_must_be_chosen(no_cloud_env):
    checks = check_azure([AZ], credential=_Token())
    assert checks[-1].name == "subscription" and not checks[-1].ok
    assert "AZURE_SUBSCRIPTION_ID" in checks[-1].fix


def test_azure_with_credentials_reports_providers_and_quota():
    with RecordedApi(load("azure-doctor.json")) as api:
        checks = check_azure([AZ], credential=_Token(), subscription_id=SUB,
                             base_url=api.url, authentication_policy=SansIOHTTPPolicy())
    by = {c.name: c for c in checks}
    assert by["credentials"].ok and by["subscription"].ok
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


def test_gcp_with_credentials_reports_family_quota():
    with RecordedApi(load("gcp-doctor.json")) as api:
        checks = check_gcp([GCP], credentials=AnonymousCredentials(), project="bko-test",
                           client_options={"api_endpoint": api.url})
    by = {c.name: c for c in checks}
    assert by["project"].ok
    # Four n2-standard-4 VMs: 16 vCPUs; 20 CPUS free but only 8 N2_CPUS.
    assert by["quota europe-west1 CPUS"].ok
    n2 = by["quota europe-west1 N2_CPUS"]
    assert not n2.ok and "needs 16 vCPUs, 8 free of 8" in n2.detail


def test_gcp_unknown_project_fails_clearly():
    with RecordedApi({}) as api:
        checks = check_gcp([GCP], credentials=AnonymousCredentials(), project="nope",
                           client_options={"api_endpoint": api.url})
    assert checks[-1].name == "project" and not checks[-1].ok
    assert "Compute Engine API" in checks[-1].fix
