"""Goldens of bakeoff's own output are checked against something else (issue 24, Build 3).

The plan goldens (tests/golden/plan/) are what the code printed once. Here their key
values are compared with their real sources: the scenario YAML beside them, and the
campaign-cost formula of docs/clouds.md worked with price rows read straight from the
CSV files (not through the catalog code). And a golden may only change with a reviewed
diff: its checksum must be recorded in the folder's REVIEWED file.
"""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from tests.conftest import REPO
from tests.golden_support import reviewed, sha256

PLAN = REPO / "tests" / "golden" / "plan"
PRICING = REPO / "scoring" / "data" / "pricing"


def test_every_plan_golden_is_reviewed_and_documented():
    notes = reviewed(PLAN)
    readme = (PLAN / "README.md").read_text()
    goldens = sorted(PLAN.glob("*.json"))
    assert goldens
    for path in goldens:
        assert path.name in readme, f"{path.name}: say where its values come from"
        assert notes.get(path.name) == sha256(path), (
            f"{path} changed since it was reviewed: read `git diff {path}`, then record "
            f"'{sha256(path)}  {path.name}  <note>' in {PLAN / 'REVIEWED'}")


def _csv(name: str) -> list[dict[str, str]]:
    with open(PRICING / name) as f:
        return list(csv.DictReader(f))


def _vm(provider: str, region: str, itype: str, spot: bool = False) -> float:
    (row,) = [r for r in _csv("compute.csv") if (r["provider"], r["region"],
                                                 r["instance_type"]) == (provider, region,
                                                                         itype)]
    return float(row["spot_usd_per_hour" if spot else "ondemand_usd_per_hour"])


def _db(provider: str, region: str, instance: str, ha: bool) -> float:
    (row,) = [r for r in _csv("managed_db.csv") if (
        r["provider"], r["region"], r["tier_or_instance"], r["ha"]) == (
        provider, region, instance, "true" if ha else "false")]
    return float(row["usd_per_hour"])


def _hours(scenario: dict, database: bool) -> float:
    """docs/clouds.md: 0.25 h to create and destroy (+0.5 h with a managed database), plus
    each unit's stated run time + 30 s, times repetitions."""
    reps = scenario["repetitions"]
    units = 0.0
    for w in scenario["workloads"]:
        p = w.get("params", {})
        run = p["count"] * p.get("interval_s", 0.05) if w["name"] == "ping" else p["time_s"]
        units += (run + 30) * reps
    return 0.25 + (0.5 if database else 0.0) + units / 3600


def _resources(site: dict, type_: str) -> list[dict]:
    return [r for r in site["resources"] if r["type"] == type_]


def test_aws_plan_golden_against_its_scenario_and_prices():
    scenario = yaml.safe_load((PLAN / "aws-site.yaml").read_text())
    spec = scenario["sites"][0]
    (site,) = json.loads((PLAN / "aws-site.json").read_text())["sites"]
    vms = {r["name"]: r["properties"] for r in _resources(site, "aws:ec2/instance:Instance")}
    assert {n: p["instanceType"] for n, p in vms.items()} == {
        "bko-aws-server": spec["instance_type"], "bko-aws-client": spec["instance_type"],
        "bko-aws-loadgen-0": spec["loadgen_instance_type"]}
    assert {p["availabilityZone"] for p in vms.values()} == set(spec["zones"])
    assert {p["ebsBlockDevices"][0]["volumeSize"] for p in vms.values()} == {spec["disk_gb"]}
    (db,) = _resources(site, "aws:rds/instance:Instance")
    assert (db["properties"]["instanceClass"], db["properties"]["multiAz"],
            db["properties"]["allocatedStorage"]) == (spec["database"]["instance"],
                                                      spec["database"]["ha"],
                                                      spec["database"]["storage_gb"])
    hourly = (2 * _vm("aws", "us-east-1", spec["instance_type"])
              + _vm("aws", "us-east-1", spec["loadgen_instance_type"])
              + _db("aws", "us-east-1", spec["database"]["instance"], ha=True))
    # 0.791667 h x (2 x 0.17 + 0.085 + 0.13) = 0.4394 -> $0.44
    assert hourly == pytest.approx(0.555)
    assert site["estimated_campaign_usd"] == round(_hours(scenario, True) * hourly, 2) == 0.44


def test_azure_gcp_plan_golden_against_its_scenario_and_prices():
    scenario = yaml.safe_load((PLAN / "azure-gcp-sites.yaml").read_text())
    specs = {s["name"]: s for s in scenario["sites"]}
    sites = {s["site"]: s for s in json.loads((PLAN / "azure-gcp-sites.json").read_text())
             ["sites"]}
    az, azs = sites["azure"], specs["azure"]
    sizes = {r["properties"]["hardwareProfile"]["vmSize"]
             for r in _resources(az, "azure-native:compute:VirtualMachine")}
    assert sizes == {azs["instance_type"]}
    hourly = 3 * _vm("azure", "eastus", azs["instance_type"]) + \
        azs["price_override"]["db_usd_per_hour"]
    # 0.791667 h x (3 x 0.169 + 0.406) = 0.7228 -> $0.72
    assert az["estimated_campaign_usd"] == round(_hours(scenario, True) * hourly, 2) == 0.72
    gcp, gcps = sites["gcp"], specs["gcp"]
    vms = _resources(gcp, "gcp:compute/instance:Instance")
    (machine,) = {r["properties"]["machineType"] for r in vms}
    assert len(vms) == 3 and {r["properties"]["zone"] for r in vms} == set(gcps["zones"])
    assert {r["properties"]["scheduling"]["provisioningModel"] for r in vms} == {"SPOT"}
    (row,) = [r for r in _csv("compute.csv") if (r["provider"], r["region"],
                                                 r["instance_type"]) == ("gcp", "us-central1",
                                                                         machine)]
    assert (row["family"], int(row["vcpus"])) == (gcps["size"]["family"],
                                                  gcps["size"]["vcpus"])
    hourly = 3 * _vm("gcp", "us-central1", machine, spot=True) + \
        _db("gcp", "us-central1", gcps["database"]["instance"], ha=False)
    assert gcp["estimated_campaign_usd"] == round(_hours(scenario, True) * hourly, 2)


def test_http_load_golden_histograms_agree_with_locusts_own_counters():
    """checkout.json is bakeoff's own document; its per-endpoint HDR histograms (our
    plugin) and Locust's own request counters were recorded apart in the same run, so
    each must account for the other: every request is in its endpoint's histogram."""
    from bench.hdr import decode

    doc = json.loads((REPO / "tests" / "golden" / "http-load" / "checkout.json").read_text())
    endpoints = doc["locust"]["endpoints"]
    assert len(endpoints) == 2
    for name, ep in endpoints.items():
        assert ep["failures"] == 0, name
        assert decode(ep["hdr"]).get_total_count() == ep["requests"] > 0, name
