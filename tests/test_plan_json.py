"""`bakeoff plan --json`: the cloud programs under Pulumi mocks, offline, as a golden file."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bakeoff.cli import app
from tests.conftest import REPO
from tests.golden_support import assert_json_golden

pytest.importorskip("pulumi_aws")

GOLDEN = REPO / "tests" / "golden" / "plan"
runner = CliRunner()
# No credentials, no CLI on PATH: the preview must not need either.
OFFLINE = {"BAKEOFF_OWNER": "golden-owner", "AWS_ACCESS_KEY_ID": "", "AWS_PROFILE": "",
           "PATH": "/usr/bin:/bin", "COLUMNS": "200"}


def test_plan_json_matches_golden():
    res = runner.invoke(app, ["plan", str(GOLDEN / "aws-site.yaml"), "--json"], env=OFFLINE)
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert_json_golden(GOLDEN / "aws-site.json", got)  # BAKEOFF_REGEN_GOLDEN: reviewed diff
    (site,) = got["sites"]  # the local site has no cloud program
    assert site["provider"] == "aws" and site["estimated_campaign_usd"] > 0
    types = {r["type"] for r in site["resources"]}
    assert {"aws:ec2/instance:Instance", "aws:rds/instance:Instance",
            "aws:ec2/vpc:Vpc"} <= types


def test_plan_shows_resources_and_campaign_cost():
    res = runner.invoke(app, ["plan", str(GOLDEN / "aws-site.yaml")], env=OFFLINE)
    assert res.exit_code == 0, res.output
    assert "aws:ec2/instance:Instance x3" in res.output
    site = json.loads((GOLDEN / "aws-site.json").read_text())["sites"][0]
    assert f"campaign cost: ${site['estimated_campaign_usd']:,.2f}" in res.output
    assert "budget_usd $5.00" in res.output
