"""`bakeoff plan --json` for Azure and GCP sites: offline, as a golden file."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bakeoff.cli import app
from tests.conftest import REPO
from tests.golden_support import assert_json_golden

GOLDEN = REPO / "tests" / "golden" / "plan"
runner = CliRunner()
OFFLINE = {"BAKEOFF_OWNER": "golden-owner", "PATH": "/usr/bin:/bin", "COLUMNS": "200",
           "AZURE_SUBSCRIPTION_ID": "", "GOOGLE_CLOUD_PROJECT": ""}


def test_plan_json_azure_gcp_matches_golden():
    res = runner.invoke(app, ["plan", str(GOLDEN / "azure-gcp-sites.yaml"), "--json"],
                        env=OFFLINE)
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert_json_golden(GOLDEN / "azure-gcp-sites.json", got)  # BAKEOFF_REGEN_GOLDEN: reviewed diff
    sites = {s["site"]: s for s in got["sites"]}
    assert all(s["estimated_campaign_usd"] > 0 and "error" not in s for s in sites.values())
    az = {r["type"] for r in sites["azure"]["resources"]}
    assert {"azure-native:compute:VirtualMachine", "azure-native:dbforpostgresql:Server",
            "azure-native:network:NetworkSecurityGroup"} <= az
    gcp = [r for r in sites["gcp"]["resources"] if r["type"] == "gcp:compute/instance:Instance"]
    assert len(gcp) == 3 and all(r["properties"]["scheduling"]["provisioningModel"] == "SPOT"
                                 for r in gcp)
    disks = [r for r in sites["gcp"]["resources"] if r["type"] == "gcp:compute/disk:Disk"]
    assert {d["properties"]["provisionedIops"] for d in disks} == {6000}


def test_plan_sizes_a_fixed_disk_for_its_iops(write_scenario):
    # Premium SSD sets IOPS by size (core/disk_rule.py, shared with the TCO): 40 GiB with
    # 5,000 IOPS is created as P30 (1,024 GiB, 5,000 IOPS), and no IOPS are sent
    text = (GOLDEN / "azure-gcp-sites.yaml").read_text().replace(
        "disk_gb: 40\n", "disk_gb: 40\n    disk_iops: 5000\n", 1)
    res = runner.invoke(app, ["plan", str(write_scenario(text)), "--json"], env=OFFLINE)
    assert res.exit_code == 0, res.output
    azure = next(s for s in json.loads(res.output)["sites"] if s["site"] == "azure")
    assert "error" not in azure
    disks = [r["properties"] for r in azure["resources"]
             if r["type"] == "azure-native:compute:Disk"]
    assert disks and {d["diskSizeGB"] for d in disks} == {1024}
    assert not any("diskIOPSReadWrite" in d for d in disks)
