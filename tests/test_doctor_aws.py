"""`bakeoff doctor` for AWS: no CLI, no credentials, and moto credentials (server mode)."""

from __future__ import annotations

import pytest

pytest.importorskip("moto")

from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from bakeoff.cli import app
from stacks.cloud.doctor_aws import check_aws
from tests.sshd_support import _free_port

runner = CliRunner()


@pytest.fixture
def no_aws(tmp_path, monkeypatch):
    """No credentials anywhere boto3 looks, and no instance metadata service."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return tmp_path


@pytest.fixture
def fake_cli(tmp_path, monkeypatch):
    """A `pulumi` on PATH that answers `pulumi version` like the real CLI."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "pulumi"
    exe.write_text("#!/bin/sh\necho v3.140.0\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return exe


def test_without_cli_and_credentials_exit_3_with_the_fixes(no_aws, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    res = runner.invoke(app, ["doctor", "--provider", "aws"], env={"COLUMNS": "250"})
    assert res.exit_code == 3, res.output  # a prerequisite is missing (docs/cli.md)
    assert "Traceback" not in res.output
    assert "get.pulumi.com" in res.output
    assert "aws configure" in res.output
    checks = {c.name: c for c in check_aws([])}
    assert not checks["Pulumi CLI"].ok and not checks["credentials"].ok
    assert "operator CIDR" not in checks  # nothing after the credentials failed


@pytest.mark.parametrize("profile", ["", "no-such-profile"])
def test_unknown_aws_profile_is_a_prerequisite_not_a_crash(no_aws, monkeypatch, profile):
    """boto3 raises ProfileNotFound while building the session (before any call): doctor
    and gc once crashed with exit 70 on an empty AWS_PROFILE."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("AWS_PROFILE", profile)
    res = runner.invoke(app, ["doctor", "--provider", "aws"], env={"COLUMNS": "250"})
    assert res.exit_code == 3, res.output
    assert "internal error" not in res.output and "Traceback" not in res.output
    assert f"AWS_PROFILE={profile!r} names no configured AWS profile" in res.output
    gc = runner.invoke(app, ["gc", "--provider", "aws", "--region", "us-east-1"],
                       env={"COLUMNS": "250"})
    assert gc.exit_code != 70 and "internal error" not in gc.output, gc.output
    assert "names no configured AWS profile" in gc.output


def test_old_cli_is_named(no_aws, fake_cli):
    fake_cli.write_text("#!/bin/sh\necho v3.50.1\n")
    (cli,) = [c for c in check_aws([]) if c.name == "Pulumi CLI"]
    assert not cli.ok and "3.50.1" in cli.detail and cli.fix == "pulumi self-update"


def test_with_moto_credentials_everything_passes(no_aws, fake_cli, monkeypatch):
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("BAKEOFF_OPERATOR_CIDR", "198.51.100.7/32")
        from bakeoff.cloudsites import plan_spec, resolve_campaign
        from bench.scenarios import load_campaign_file
        from tests.conftest import REPO

        campaign = resolve_campaign(load_campaign_file(REPO / "scenarios" / "poc-web-db.yaml"))
        specs = [plan_spec(s, campaign) for s in campaign.sites if s.provider == "aws"]
        checks = {c.name: c for c in check_aws(specs)}
        assert checks["Pulumi CLI"].ok and checks["Pulumi CLI"].detail == "3.140.0"
        assert checks["credentials"].ok and "123456789012" in checks["credentials"].detail
        assert checks["operator CIDR"].ok
        quota = checks["vCPU quota us-east-1"]
        # moto answers GetServiceQuota or not, by version: a number, or "unknown"
        assert quota.ok and ("needs 12 standard vCPUs" in quota.detail or quota.unknown)
        res = runner.invoke(app, ["doctor", "--provider", "aws"], env={"COLUMNS": "250"})
        assert res.exit_code == 0, res.output
    finally:
        server.stop()
