"""Commitments for every cloud (issue 18, Build 4): RIs, reservations, savings plans, CUDs,
paid no/partial/all upfront; the upfront part shown; a missing one is a named error.

Expected values are worked by hand from the rows in scoring/data/pricing/commitments.csv.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.scenarios import load_campaign_file, parse_campaign
from core.errors import PriceNotFoundError
from scoring.catalog_load import DATA_DIR, load_catalog
from scoring.tco import MissingPrices, estimate_site

ROOT = Path(__file__).resolve().parents[1]
# On-demand rows the shipped compute.csv does not hold yet (the catalog side adds families);
# the same sources as the commitment rows: Vantage's AWS copy; Azure on-demand as noted.
EXTRA_COMPUTE = (
    "aws,us-east-1,m6a.xlarge,general,4,16,0.1728,,instances-api.vantage.sh m6a (ondemand),"
    "2026-10-01,,,api_derived,test row\n"
    "azure,eastus,Standard_D4ds_v5,general,4,16,0.226,,test on-demand row,2026-08-01,,,"
    "secondary,test row\n")


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    snap = tmp_path_factory.mktemp("snap")
    shutil.copytree(DATA_DIR / "pricing", snap / "pricing")
    (snap / "pricing" / "provenance.json").unlink(missing_ok=True)
    compute = snap / "pricing" / "compute.csv"
    have = {",".join(line.split(",")[:3]) for line in compute.read_text().splitlines()}
    with compute.open("a") as f:  # only the rows the shipped file does not hold (m6a: it does)
        f.writelines(line + "\n" for line in EXTRA_COMPUTE.splitlines()
                     if ",".join(line.split(",")[:3]) not in have)
    return load_catalog(snap)


def cost(catalog, site: dict, term: str, **usage):
    c = parse_campaign({"name": "t", "sites": [{"name": "s", **site}],
                        "usage": {"hours_per_month": 730, "instances": 2, **usage}})
    return estimate_site(c, "s", catalog, term)


AWS = {"provider": "aws", "region": "us-east-1", "zones": ["us-east-1a", "us-east-1b"],
       "instance_type": "m6a.xlarge"}
AZ = {"provider": "azure", "region": "eastus", "zones": ["1", "2"],
      "instance_type": "Standard_D4ds_v5"}


def test_aws_reserved_instances_and_savings_plan(catalog):
    # 1y no upfront: 2 x 730 h x 0.11431 = 166.8926
    c = cost(catalog, AWS, "1y").components[0]
    assert c.monthly_usd == pytest.approx(166.8926) and c.commitment_months == 12
    assert "reservation, no upfront" in c.note
    # 3y partial upfront: 2 x 730 x 0.072591 = 105.98286
    c3 = cost(catalog, AWS, "3y", commitment_payment="partial_upfront").components[0]
    assert c3.monthly_usd == pytest.approx(105.98286) and c3.commitment_months == 36
    # Compute Savings Plan 1y no upfront: 2 x 730 x 0.13965 = 203.889
    sp = cost(catalog, AWS, "1y", commitment="savings_plan").components[0]
    assert sp.monthly_usd == pytest.approx(203.889)


def test_azure_reservation_upfront_is_amortised_and_shown(catalog):
    # 1y all upfront: $1,168 / 8,760 h = 0.133333/h; 2 x 730 x 0.133333 = 194.66618
    cst = cost(catalog, AZ, "1y", commitment_payment="all_upfront")
    c = cst.components[0]
    assert c.monthly_usd == pytest.approx(194.66618)
    assert "$1,168.00 upfront / 8,760 h = $0.133333/h amortised" in c.note
    assert any("$2,336.00 paid at purchase (2 x $1,168.00)" in cv for cv in cst.caveats)
    # 36 months: 3 whole 1-year terms x 12 x 194.66618 = 7,007.98
    assert cst.horizons[36] == pytest.approx(36 * cst.monthly_usd)
    # savings plan 3y: 2 x 730 x 0.1032142 = 150.692732
    sp = cost(catalog, AZ, "3y", commitment="savings_plan").components[0]
    assert sp.monthly_usd == pytest.approx(150.692732)


def test_a_missing_commitment_names_type_region_term_never_on_demand(catalog):
    with pytest.raises(MissingPrices) as e:
        cost(catalog, AWS, "3y", commitment="savings_plan")
    msg = str(e.value)
    assert "aws us-east-1 m6a.xlarge: no 3-year savings plan price paid no upfront" in msg
    assert "reservation no_upfront, reservation partial_upfront" in msg
    # the partial cost holds no compute line: nothing was priced on-demand in its place
    assert not [c for c in e.value.partial.components if c.kind == "compute"]
    with pytest.raises(PriceNotFoundError, match="all upfront"):
        cost(catalog, AWS, "1y", commitment_payment="all_upfront")


def test_gcp_cuds_still_apply(catalog):
    gcp = {"provider": "gcp", "region": "us-central1", "zones": ["us-central1-a"],
           "instance_type": "n4-highcpu-4"}
    # n4-highcpu-4 1y CUD row: 0.09644/h; 2 x 730 x 0.09644 = 140.8024
    assert cost(catalog, gcp, "1y").monthly_usd == pytest.approx(140.8024)


def test_poc_web_db_term_1y_is_a_named_missing_price_where_no_row_exists():
    c = load_campaign_file(ROOT / "scenarios" / "poc-web-db.yaml")
    with pytest.raises(MissingPrices) as e:
        estimate_site(c, "aws", term="1y")
    assert "1-year reservation price paid no upfront" in str(e.value)


def test_cloud_sql_cud_and_rds_reserved_database():
    gdb = {"provider": "gcp", "region": "us-central1", "zones": ["us-central1-a"],
           "instance_type": "n4-highcpu-4",
           "database": {"instance": "db-custom-2-8192", "ha": True, "storage_gb": 100}}
    on = cost(load_catalog(), gdb, "on-demand")
    y3 = cost(load_catalog(), gdb, "3y")
    od = next(c for c in on.components if c.kind == "database")
    db3 = next(c for c in y3.components if c.kind == "database")
    # managed_db.csv HA unit rows: 2 vCPU x 0.0826 + 8 GiB x 0.014 = 0.2772/h on demand;
    # Cloud SQL 3y CUD: 52% off vCPU and memory: 0.2772 x 0.48 = 0.133056/h;
    # 730 h x 0.133056 = 97.13088 a month, billed for 36 months; storage unchanged
    assert od.unit_price_usd == pytest.approx(0.2772)
    assert db3.unit_price_usd == pytest.approx(0.133056)
    assert db3.monthly_usd == pytest.approx(97.13088)
    assert db3.commitment_months == 36 and "52%" in db3.note
    store = [c.monthly_usd for c in y3.components if c.kind == "database_storage"]
    assert store == [c.monthly_usd for c in on.components if c.kind == "database_storage"]


def test_a_database_without_a_commitment_row_is_a_named_missing_price():
    site = dict(AWS, database={"instance": "db.t3.large", "ha": False, "storage_gb": 100})
    with pytest.raises(MissingPrices) as e:
        cost(load_catalog(), site, "1y")
    assert ("no 1-year no upfront commitment price for managed PostgreSQL db.t3.large "
            "(single zone)") in str(e.value)
