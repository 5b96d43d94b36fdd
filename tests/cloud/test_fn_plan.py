"""`bakeoff plan` of the shipped three-cloud serverless scenario, offline: Lambda, Flex
Consumption and Cloud Run with VPC access to each site's database, passing the provider
rules, with the per-request cost (docs/serverless.md; tests/test_fn_cost.py works the
numbers by hand)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bakeoff.cli import app
from tests.conftest import REPO

SCENARIO = REPO / "scenarios" / "serverless.yaml"
OFFLINE = {"BAKEOFF_OWNER": "plan-owner", "PATH": "/usr/bin:/bin", "COLUMNS": "200",
           "AZURE_SUBSCRIPTION_ID": "", "GOOGLE_CLOUD_PROJECT": ""}
runner = CliRunner()


def test_plan_previews_three_function_sites_with_per_request_cost():
    res = runner.invoke(app, ["plan", str(SCENARIO), "--json"], env=OFFLINE)
    assert res.exit_code == 0, res.output
    sites = {s["site"]: s for s in json.loads(res.output)["sites"]}
    assert set(sites) == {"lambda", "functions", "cloud-run"}
    for s in sites.values():
        assert "error" not in s and s["rule_violations"] == [], s.get("error")
    types = {name: {r["type"] for r in s["resources"]} for name, s in sites.items()}
    assert {"aws:lambda/function:Function", "aws:lambda/functionUrl:FunctionUrl",
            "aws:rds/instance:Instance"} <= types["lambda"]
    assert {"azure-native:web:WebApp", "azure-native:web:AppServicePlan",
            "azure-native:dbforpostgresql:Server"} <= types["functions"]
    assert {"gcp:cloudrunv2/service:Service",
            "gcp:sql/databaseInstance:DatabaseInstance"} <= types["cloud-run"]
    # VPC access to each database, as each platform declares it
    lam = next(r for r in sites["lambda"]["resources"]
               if r["type"] == "aws:lambda/function:Function")
    assert len(lam["properties"]["vpcConfig"]["subnetIds"]) == 2
    assert lam["properties"]["code"] == {"FileArchive": "aws-checkout.zip"}
    webapp = next(r for r in sites["functions"]["resources"]
                  if r["type"] == "azure-native:web:WebApp")
    assert webapp["properties"]["virtualNetworkSubnetId"]
    assert "run.googleapis.com" in sites["cloud-run"]["requires"]
    assert "Microsoft.Web" in sites["functions"]["requires"]
    # per-request cost: by hand in tests/test_fn_cost.py
    assert sites["lambda"]["function_cost"]["monthly_usd"] == round(0.80 + 3.33334, 4)
    assert sites["cloud-run"]["function_cost"]["monthly_usd"] == round(1.20 + 19.68 + 1.60, 4)
    flex = sites["functions"]["function_cost"]
    assert flex["monthly_usd"] == round(1.90 + 28.60, 4) and flex["missing"] == []


def test_plan_table_shows_the_function_cost_lines():
    res = runner.invoke(app, ["plan", str(SCENARIO)], env=OFFLINE)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "function cost per usage profile (5,000,000 requests/month x 120 ms at 1024 MB" \
        in text
    assert "$4.13/month" in text and "$22.48/month" in text and "$30.50/month" in text


def test_bad_serverless_values_are_named_without_a_traceback(tmp_path):
    text = SCENARIO.read_text().replace(
        "serverless: {function: checkout, memory_mb: 2048, vpc: true}",
        "serverless: {function: checkout, memory_mb: 1536, vpc: false}")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    res = runner.invoke(app, ["validate", str(bad)], env=OFFLINE)
    assert res.exit_code == 1, res.output  # validate: problems found (CheckError)
    out = " ".join((res.output + str(res.exception)).split())
    assert "bad.yaml" in out and "serverless" in out and "Traceback" not in res.output
    assert "serverless.memory_mb: Azure Flex Consumption instance memory is one of 512, " \
           "2048, 4096 MB, got 1536" in out
    assert "serverless.vpc: checkout needs vpc: true" in out


def test_a_run_needs_the_wheels_only_and_names_the_fix(monkeypatch, tmp_path):
    """The downstream API is built (the server VM serves it): preflight no longer refuses
    checkout for it. What is left is psycopg for the Lambda and Functions zips: without
    an index and without BAKEOFF_FN_WHEELS, the run is refused before any `up`, saying
    how to fix it; with the override it passes (Cloud Run's build installs them)."""
    from bench.scenarios import load_campaign_file
    from stacks.cloud.provisioner import CloudProvisioner

    monkeypatch.delenv("BAKEOFF_FN_WHEELS", raising=False)
    monkeypatch.setenv("BAKEOFF_FN_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # closed: no index
    campaign = load_campaign_file(SCENARIO)
    site = campaign.site("lambda")
    problems = CloudProvisioner("aws").rule_problems(site, campaign)
    assert len(problems) == 1 and "downstream" not in problems[0]
    assert "cannot download psycopg[binary]" in problems[0]
    assert "BAKEOFF_FN_WHEELS=DIR" in problems[0]
    gcp = next(s for s in campaign.sites if s.provider == "gcp")
    assert CloudProvisioner("gcp").rule_problems(gcp, campaign) == []
    monkeypatch.setenv("BAKEOFF_FN_WHEELS", str(tmp_path / "wheels"))
    assert CloudProvisioner("aws").rule_problems(site, campaign) == []
    monkeypatch.delenv("BAKEOFF_FN_WHEELS")
    # hello alone needs no vendored dependencies (still no index here)
    hello = site.model_copy(update={"serverless": site.serverless.model_copy(
        update={"function": "hello"})})
    only_hello = campaign.model_copy(update={"workloads": [
        w.model_copy(update={"params": {**w.params, "function": "hello", "baseline": None}})
        for w in campaign.workloads]})
    assert CloudProvisioner("aws").rule_problems(hello, only_hello) == []
