"""`bakeoff gc` and `bakeoff doctor` for Azure and GCP, end to end through the CLI."""

from __future__ import annotations

import json

import pytest
import requests
from azure.core.credentials import AccessToken
from azure.core.pipeline.policies import SansIOHTTPPolicy
from google.auth.credentials import AnonymousCredentials
from rich.console import Console
from typer.testing import CliRunner

from bakeoff import cli_cloud
from bakeoff.cli import app
from stacks.cloud.gc_azure import AzureInventory
from stacks.cloud.gc_gcp import GcpInventory
from tests.cloud.recorded_api import RecordedApi, load

runner = CliRunner()
ENV: dict[str, str] = {}
SUB = "00000000-0000-0000-0000-0000000000aa"


class _Token:
    def get_token(self, *scopes, **kw):
        return AccessToken("test-token", 2**31)


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    monkeypatch.setattr(cli_cloud, "out", Console(width=300, force_terminal=False))


@pytest.fixture
def accounts(monkeypatch, tmp_path):
    """Both providers' inventories on local canned APIs; a journal knowing two campaigns.
    The recorded expiry tags are fixed times, so gc's clock is pinned to the moment they
    were recorded against (as in test_gc_azure_gcp.py)."""
    from stacks.cloud import gc_common
    from tests.cloud.test_gc_azure_gcp import NOW

    monkeypatch.setattr(gc_common, "clock", lambda: NOW)
    with RecordedApi(load("azure.json")) as az, RecordedApi(load("gcp.json")) as gcp:
        monkeypatch.setitem(cli_cloud.INVENTORIES, "azure", lambda opts: AzureInventory(
            SUB, credential=_Token(), base_url=az.url,
            authentication_policy=SansIOHTTPPolicy()))
        monkeypatch.setitem(cli_cloud.INVENTORIES, "gcp", lambda opts: GcpInventory(
            "bko-test", credentials=AnonymousCredentials(),
            client_options={"api_endpoint": gcp.url}, sql_session=requests.Session(),
            sql_base_url=gcp.url))
        journal = tmp_path / "campaigns"
        for campaign in ("c-live", "c-old"):
            (journal / campaign).mkdir(parents=True)
        # the journal says which clouds this machine's campaigns used: gc's default
        (journal / "c-old" / "journal.json").write_text(json.dumps({"sites": {
            "a": {"provider": "azure", "status": "destroyed"},
            "g": {"provider": "gcp", "status": "destroyed"}}}))
        yield az, gcp, journal


def test_gc_dry_run_by_default(accounts):
    az, gcp, journal = accounts
    result = runner.invoke(app, ["gc", "--journal", str(journal)], env=ENV)
    assert result.exit_code == 0, result.output
    assert "azure: 5 to delete; nothing deleted (dry run" in result.output
    assert "gcp: 9 to delete; nothing deleted (dry run" in result.output
    assert "bko-web-rg4d5e6f" in result.output and "live until" in result.output
    assert az.calls("DELETE") == [] and gcp.calls("DELETE") == []


def test_gc_sweeps_no_cloud_on_a_machine_that_never_used_one(accounts, monkeypatch, tmp_path):
    """No journaled cloud campaign, nothing configured: no cloud is asked (no credentials
    needed, exit 0); a configured GCP project brings GCP back."""
    az, gcp, _ = accounts
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AZURE_SUBSCRIPTION_ID",
                "ARM_SUBSCRIPTION_ID", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    empty = tmp_path / "no-campaigns"
    result = runner.invoke(app, ["gc", "--journal", str(empty)], env=ENV)
    assert result.exit_code == 0, result.output
    assert "clouds: none swept" in result.output
    assert az.requests == [] and gcp.requests == []
    result = runner.invoke(app, ["gc", "--journal", str(empty), "--project", "bko-test"],
                           env=ENV)
    assert result.exit_code == 0, result.output
    assert "gcp: 9 to delete" in result.output and az.requests == []


def test_gc_delete_one_provider(accounts):
    az, gcp, journal = accounts
    result = runner.invoke(app, ["gc", "-p", "azure", "--delete", "--journal", str(journal)],
                           env=ENV)
    assert result.exit_code == 0, result.output
    assert "azure: deleted 5 of 5, 0 error(s)" in result.output
    assert len(az.calls("DELETE")) == 5 and gcp.requests == []


def test_gc_rejects_bad_age_and_provider():
    result = runner.invoke(app, ["gc", "--older-than", "soon"], env=ENV)
    assert result.exit_code != 0 and "--older-than" in str(result.exception or result.output)
    result = runner.invoke(app, ["gc", "-p", "oracle"], env=ENV)
    assert result.exit_code != 0 and "oracle" in str(result.exception or result.output)
    assert cli_cloud.parse_age("90m").total_seconds() == 5400


def test_doctor_without_credentials_exits_3_with_fixes(monkeypatch, tmp_path):
    for var in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
                "AZURE_SUBSCRIPTION_ID", "GOOGLE_APPLICATION_CREDENTIALS",
                "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    # Developer credentials only (no managed-identity probe), no GCE metadata probe,
    # no CLIs on PATH, an empty home: nothing is asked outside this machine.
    env = {"AZURE_TOKEN_CREDENTIALS": "dev", "NO_GCE_CHECK": "true",
           "HOME": str(tmp_path), "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
           "PATH": "/usr/bin:/bin"}
    monkeypatch.setattr(cli_cloud, "out", Console(width=300, force_terminal=False))
    result = runner.invoke(app, ["doctor", "scenarios/poc-web-db.yaml", "-p", "azure",
                                 "-p", "gcp"], env=env)
    assert result.exit_code == 3, result.output  # prerequisite missing, as documented
    assert "az login" in result.output
    assert "gcloud auth application-default login" in result.output
    assert "4 problem(s)" in result.output  # + the Pulumi CLI of each cloud


def test_gc_delete_never_touches_a_campaign_whose_owner_is_alive(accounts, monkeypatch,
                                                                  tmp_path):
    """c-old's resources are expired; while a process holds c-old's claim (its owner is
    alive), gc --delete keeps every one of them and still removes the others."""
    from bench.lock import CampaignClaim

    _az, gcp, journal = accounts
    monkeypatch.setenv("BAKEOFF_STATE_DIR", str(tmp_path / "state"))
    claim = CampaignClaim("c-old").acquire()
    try:
        result = runner.invoke(app, ["gc", "-p", "gcp", "--delete", "--journal",
                                     str(journal)], env=ENV)
    finally:
        claim.release(remove=True)
    assert result.exit_code == 0, result.output
    assert "c-old is running here (owner alive)" in result.output
    deleted = [p for m, p, _ in gcp.requests if m == "DELETE"]
    assert deleted and not [p for p in deleted if "bko-web" in p]  # c-old's are bko-web-*
    assert [p for p in deleted if "bko-ghost" in p]


METADATA = ("169.254.169.254", "fd00:ec2::254", "metadata.google.internal")


@pytest.fixture
def metadata_guard(monkeypatch, tmp_path):
    """Every attempt to reach the instance metadata address is recorded and refused.
    No cloud is configured or logged in; the SDKs' own metadata switches start unset
    (and are restored afterwards)."""
    import socket

    from google.auth.compute_engine import _metadata

    attempts: list[object] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def guard(address):
        host = address[0] if isinstance(address, tuple) else address
        if host in METADATA:
            attempts.append(address)
            raise OSError("metadata address blocked by the test")

    def connect(self, address):
        guard(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        guard(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *a, **kw):
        guard((host,))
        return real_getaddrinfo(host, *a, **kw)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(_metadata, "_NO_GCE_CHECK", False)
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_EC2_METADATA_DISABLED", "NO_GCE_CHECK",
                "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
                "AZURE_TOKEN_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("BAKEOFF_STATE_DIR", str(tmp_path / "state"))
    return attempts


def test_plain_gc_and_doctor_never_reach_the_metadata_address(metadata_guard, monkeypatch,
                                                              tmp_path):
    """A machine that is not a cloud VM: `bakeoff gc` sweeps the clouds its journaled
    campaigns used (all three here; regions, subscription and project are set, no
    credentials) and makes no metadata connection, though each SDK's credential chain
    would probe it by default (botocore's IMDS provider, google-auth's GCE check, Azure's
    managed identity). Plain `bakeoff doctor` names what to check and contacts nothing."""
    journal = tmp_path / "campaigns"
    (journal / "c-old").mkdir(parents=True)
    (journal / "c-old" / "journal.json").write_text(json.dumps({"sites": {
        p: {"provider": p, "status": "destroyed"} for p in ("aws", "azure", "gcp")}}))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUB)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "bko-test")
    result = runner.invoke(app, ["gc", "--journal", str(journal)], env=ENV)
    assert "Traceback" not in result.output
    for cloud in ("aws", "azure", "gcp"):
        assert f"{cloud}: skipped" in result.output, result.output  # no credentials
    assert metadata_guard == [], f"metadata address contacted: {metadata_guard}"
    result = runner.invoke(app, ["doctor"], env=ENV)
    assert result.exit_code != 0 and "--provider" in str(result.exception or result.output)
    assert metadata_guard == []
