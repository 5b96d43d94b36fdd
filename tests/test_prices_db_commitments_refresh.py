"""`prices refresh` fills database commitments and AWS Compute Savings Plans from recorded
answers in the real shapes, with their noise rows:

- AWS RDS Reserved Instances: the AmazonRDS product's `terms.Reserved`, the same shape as
  EC2's (offerTermCode, termAttributes LeaseContractLength / OfferingClass / PurchaseOption,
  an "Upfront Fee" Quantity dimension and an Hrs one); product attributes as the Price List
  lists them (databaseEngine "PostgreSQL", deploymentOption "Single-AZ"/"Multi-AZ",
  usagetype "Multi-AZUsage:db.m6i.large", regionCode). Served by botocore's Stubber, which
  checks each query and each answer against the service model.
- AWS Compute Savings Plans: `savingsplans.describe_savings_plans_offering_rates` answers in
  the botocore model's shape (Stubber again).
- Azure Flexible Server reserved capacity: Retail Prices items of type Reservation, meter
  "vCore", the term's total per vCore (tests/prices_azure_fixture.py; the fake applies the
  $filter like the API).

No live account has run any of this.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from botocore.stub import Stubber

from scoring.catalog import DbPrice
from scoring.db_commitments import committed, rows_of
from scoring.prices import refresh_aws, refresh_azure
from scoring.prices.refresh import refresh
from scoring.prices.snapshot import RefreshError
from tests.prices_azure_fixture import VMS, item, strict_route, vm
from tests.prices_support import json_server
from tests.test_prices_aws import C6I, DT, EBS, EC2_ATTRS, _client, _dim, _item, _page, _ri, _tm

ROOT = Path(__file__).resolve().parent.parent
PG_ATTRS = {"instanceType": "db.m6i.large", "vcpu": "2", "memory": "8 GiB",
            "databaseEngine": "PostgreSQL", "licenseModel": "No license required",
            "regionCode": "us-east-1", "servicecode": "AmazonRDS",
            "usagetype": "Multi-AZUsage:db.m6i.large", "deploymentOption": "Multi-AZ",
            "operation": "CreateDBInstance:0014"}
# Multi-AZ db.m6i.large: on demand 0.356; 1yr no upfront 0.2; 1yr all upfront 1800;
# 3yr partial 1840 + 0.07/h; a convertible offer that must be dropped
RDS_MAZ = _item("RM1", "Database Instance", PG_ATTRS, [_dim("0.3560000000")], {
    **_ri("RM1.1NU", "1yr", "standard", "No Upfront", "0.2000000000", None),
    **_ri("RM1.1AU", "1yr", "standard", "All Upfront", "0.0000000000", "1800"),
    **_ri("RM1.3PU", "3yr", "standard", "Partial Upfront", "0.0700000000", "1840"),
    **_ri("RM1.1CV", "1yr", "convertible", "No Upfront", "0.1500000000", None)})
RDS_SAZ = _item("RS1", "Database Instance",
                PG_ATTRS | {"deploymentOption": "Single-AZ",
                            "usagetype": "InstanceUsage:db.m6i.large"},
                [_dim("0.1780000000")],
                _ri("RS1.1NU", "1yr", "standard", "No Upfront", "0.1100000000", None))
NOISE = [  # each carries reserved offers that must not become rows
    _item("RX1", "Database Instance", PG_ATTRS | {"databaseEngine": "MySQL"},
          [_dim("0.342")], _ri("RX1.1NU", "1yr", "standard", "No Upfront", "0.21", None)),
    _item("RX2", "Database Instance", PG_ATTRS | {"regionCode": "eu-west-1"},
          [_dim("0.39")], _ri("RX2.1NU", "1yr", "standard", "No Upfront", "0.23", None)),
    _item("RX3", "Database Instance", PG_ATTRS | {"deploymentOption":
                                                  "Multi-AZ (readable standbys)"},
          [_dim("0.5")], _ri("RX3.1NU", "1yr", "standard", "No Upfront", "0.3", None)),
    _item("RX4", "Database Storage", {"volumeType": "General Purpose-GP3",
                                      "deploymentOption": "Multi-AZ",
                                      "databaseEngine": "PostgreSQL"}, [_dim("0.23", "GB-Mo")]),
]
C7I = _item("SKU7", "Compute Instance", EC2_ATTRS | {"instanceType": "c7i.xlarge"},
            [_dim("0.1785")], _ri("SKU7.1NU", "1yr", "standard", "No Upfront", "0.1125", None))


def _rate(itype: str, rate: str, *, plan: str = "Compute", years: int = 1,
          pay: str = "No Upfront", usage: str | None = None, os_: str = "Linux/UNIX",
          tenancy: str = "shared", currency: str = "USD") -> dict:
    return {"savingsPlanOffering": {
        "offeringId": f"off-{plan}-{years}-{pay[:3]}", "paymentOption": pay, "planType": plan,
        "durationSeconds": years * 31536000, "currency": currency,
        "planDescription": f"{years} year {pay} {plan} Savings Plan"},
        "rate": rate, "unit": "Hrs", "productType": "EC2", "serviceCode": "AmazonEC2",
        "usageType": usage or f"BoxUsage:{itype}", "operation": "RunInstances",
        "properties": [{"name": "region", "value": "us-east-1"},
                       {"name": "instanceType", "value": itype},
                       {"name": "productDescription", "value": os_},
                       {"name": "tenancy", "value": tenancy}]}


SP_RATES = [_rate("c6i.xlarge", "0.1190"), _rate("c6i.xlarge", "0.0800", years=3,
                                                 pay="All Upfront"),
            _rate("c7i.xlarge", "0.1250"),
            # noise: an EC2 Instance plan, dedicated usage, Windows, a 5-year term
            _rate("c6i.xlarge", "0.1050", plan="EC2Instance"),
            _rate("c6i.xlarge", "0.1300", usage="DedicatedUsage:c6i.xlarge",
                  tenancy="dedicated"),
            _rate("c6i.xlarge", "0.2900", os_="Windows"),
            _rate("c6i.xlarge", "0.0600", years=5)]


def _pricing_stub(client, rds: list[str]) -> Stubber:
    st = Stubber(client)
    st.add_response("get_products", _page([C6I, C7I]), {
        "ServiceCode": "AmazonEC2", "MaxResults": 100, "Filters": _tm(
            regionCode="us-east-1", operatingSystem="Linux", tenancy="Shared",
            preInstalledSw="NA", capacitystatus="Used", licenseModel="No License required")})
    st.add_response("get_products", _page(rds[:2], "tok"), {
        "ServiceCode": "AmazonRDS", "MaxResults": 100,
        "Filters": _tm(regionCode="us-east-1", databaseEngine="PostgreSQL")})
    st.add_response("get_products", _page(rds[2:]), {
        "ServiceCode": "AmazonRDS", "MaxResults": 100, "NextToken": "tok",
        "Filters": _tm(regionCode="us-east-1", databaseEngine="PostgreSQL")})
    for fam in ("Storage", "System Operation", "Provisioned Throughput"):
        st.add_response("get_products", _page(EBS[fam]), {
            "ServiceCode": "AmazonEC2", "MaxResults": 100,
            "Filters": _tm(regionCode="us-east-1", productFamily=fam)})
    st.add_response("get_products", _page(DT), {
        "ServiceCode": "AWSDataTransfer", "MaxResults": 100,
        "Filters": _tm(fromRegionCode="us-east-1")})
    return st


SP_QUERY = {"savingsPlanTypes": ["Compute"], "products": ["EC2"], "serviceCodes": ["AmazonEC2"],
            "operations": ["RunInstances"], "maxResults": 1000, "filters": [
                {"name": "region", "values": ["us-east-1"]},
                {"name": "instanceType", "values": ["c6i.xlarge", "c7i.xlarge"]},
                {"name": "productDescription", "values": ["Linux/UNIX"]},
                {"name": "tenancy", "values": ["shared"]}]}


def _aws(rates: list[dict] | None = None, sp_error: str | None = None):
    """An AWS fetcher over the stubs: the pricing answers, then the Savings Plans one (in
    two pages), then an empty spot history."""
    def fetch(regions: list[str]):
        pricing, sp, ec2 = _client("pricing"), _client("savingsplans"), _client("ec2")
        rds = [RDS_MAZ, NOISE[0], RDS_SAZ, *NOISE[1:]]
        with _pricing_stub(pricing, rds) as st, Stubber(sp) as sps, Stubber(ec2) as es:
            if sp_error:
                sps.add_client_error("describe_savings_plans_offering_rates", sp_error, "no")
            else:
                rs = SP_RATES if rates is None else rates
                sps.add_response("describe_savings_plans_offering_rates",
                                 {"searchResults": rs[:3], "nextToken": "n2"}, SP_QUERY)
                sps.add_response("describe_savings_plans_offering_rates",
                                 {"searchResults": rs[3:]}, {**SP_QUERY, "nextToken": "n2"})
            es.add_response("describe_spot_price_history", {"SpotPriceHistory": []})
            res = refresh_aws.fetch(regions, client=pricing, sp_client=sp,
                                    ec2_factory=lambda r: ec2)
            st.assert_no_pending_responses()
            sps.assert_no_pending_responses()
        return res
    return fetch


def test_rds_reserved_instances_become_db_commitments():
    res = _aws()(["us-east-1"])
    rows = [(r.instance, r.ha, r.term_years, r.payment, r.effective_usd_per_hour,
             r.upfront_usd) for r in res.rows["db_commitments"]]
    # by hand: all upfront 1800 / 8,760 h = 0.205479; partial 0.07 + 1840 / 26,280 h =
    # 0.07 + 0.070015 = 0.140015. The convertible offer, MySQL, eu-west-1 and the
    # readable-standby cluster are dropped; Single-AZ is its own (ha false) row.
    assert sorted(rows) == sorted([
        ("db.m6i.large", True, 1, "no_upfront", 0.2, None),
        ("db.m6i.large", True, 1, "all_upfront", 0.205479, 1800.0),
        ("db.m6i.large", True, 3, "partial_upfront", 0.140015, 1840.0),
        ("db.m6i.large", False, 1, "no_upfront", 0.11, None)])
    maz = next(r for r in res.rows["db_commitments"] if r.ha)
    assert maz.ondemand_usd_per_hour == 0.356 and maz.sku == "RM1"
    assert {(r.tier_or_instance, r.ha) for r in res.rows["managed_db"]} == {
        ("db.m6i.large", True), ("db.m6i.large", False)}


def test_compute_savings_plans_from_the_savings_plans_api():
    res = _aws()(["us-east-1"])
    sp = {(c.instance_type, c.term_years, c.payment): c.effective_usd_per_hour
          for c in res.rows["commitments"] if c.instrument == "savings_plan"}
    # only Compute plans, shared Linux BoxUsage; the 5-year rate skipped and said
    assert sp == {("c6i.xlarge", 1, "no_upfront"): 0.119,
                  ("c6i.xlarge", 3, "all_upfront"): 0.08,
                  ("c7i.xlarge", 1, "no_upfront"): 0.125}
    assert any("1 Savings Plans rate(s) of another term" in n for n in res.notes)
    ri = [c for c in res.rows["commitments"] if c.instrument == "reservation"]
    assert {(c.instance_type, c.term_years, c.payment) for c in ri} >= {
        ("c7i.xlarge", 1, "no_upfront")}


def test_savings_plans_refusals_and_access_denied():
    with pytest.raises(RefreshError, match="EUR, not USD"):
        _aws([_rate("c6i.xlarge", "0.1", currency="EUR")] * 3)(["us-east-1"])
    with pytest.raises(RefreshError, match=r"two Compute Savings Plans rates for c6i\.xlarge"):
        _aws([_rate("c6i.xlarge", "0.1"), _rate("c6i.xlarge", "0.2"),
              _rate("c7i.xlarge", "0.12")])(["us-east-1"])
    # credentials allowed pricing:GetProducts only: the refresh goes on, and says so
    res = _aws(sp_error="AccessDeniedException")(["us-east-1"])
    assert not [c for c in res.rows["commitments"] if c.instrument == "savings_plan"]
    assert any("Compute Savings Plans not read" in n for n in res.notes)


PGFLEX = "Azure Database for PostgreSQL Flexible Server General Purpose Ddsv5 Series Compute"
PG_NOISE = [
    item("vCore", 934.0, product=PGFLEX, sku="vCore", service="Azure Database for PostgreSQL",
         type_="Reservation", term="3 Years"),
    item("vCore", 1400.0, product=PGFLEX, sku="vCore", service="Azure Database for PostgreSQL",
         type_="Reservation", term="5 Years"),
    # the 1-year meter again for a non-primary region: a duplicate
    item("vCore", 467.0, product=PGFLEX, sku="vCore", service="Azure Database for PostgreSQL",
         type_="Reservation", term="1 Year", primary=False),
    # another series, Single Server, DevTest: never a Flexible Server Ddsv5 row
    item("vCore", 390.0, product="Azure Database for PostgreSQL Flexible Server General "
         "Purpose Dsv3 Series Compute", sku="vCore", service="Azure Database for PostgreSQL",
         type_="Reservation", term="1 Year"),
    item("vCore", 300.0, product="Azure Database for PostgreSQL Single Server General Purpose "
         "- Compute Gen5", sku="vCore", service="Azure Database for PostgreSQL",
         type_="Reservation", term="1 Year"),
    item("vCore", 0.05, product=PGFLEX, sku="vCore", service="Azure Database for PostgreSQL",
         type_="DevTestConsumption"),
]
# D4ls_v6 with its 1- and 3-year reservations, so poc-web-db's Azure compute has a 1y price
AZ_VMS = dict(VMS, Standard_D4ls_v6=vm("Standard_D4ls_v6", "D4ls v6", "Dlsv6", 0.179,
                                       reservations={"1 Year": 1003.0, "3 Years": 1935.0}))


def _azure(base: str):
    return lambda regions: refresh_azure.fetch(regions, base_url=f"{base}/api/retail/prices")


def test_azure_flexible_server_reserved_capacity():
    with json_server(strict_route(extra=PG_NOISE)) as (base, _):
        res = _azure(base)(["eastus"])
    rows = {(r.instance, r.ha, r.term_years, r.payment): (r.effective_usd_per_hour,
                                                          r.upfront_usd)
            for r in res.rows["db_commitments"]}
    # per vCore for the term: 467 (1 Year, fixture PG) and 934 (3 Years). By hand:
    # D2ds_v5 single: 2 x 467 = 934 / 8,760 h = 0.106621; HA (the standby's vCores too):
    # 4 x 467 = 1,868 / 8,760 = 0.213242; 3 years HA: 4 x 934 = 3,736 / 26,280 = 0.142161
    assert rows[("GP_Standard_D2ds_v5", False, 1, "all_upfront")] == (0.106621, 934.0)
    assert rows[("GP_Standard_D2ds_v5", False, 1, "no_upfront")] == (0.106621, None)
    assert rows[("GP_Standard_D2ds_v5", True, 1, "no_upfront")] == (0.213242, None)
    assert rows[("GP_Standard_D2ds_v5", True, 3, "all_upfront")] == (0.142161, 3736.0)
    assert rows[("GP_Standard_D8ds_v5", False, 3, "no_upfront")] == (
        round(8 * 934 / 26280, 6), None)
    # only Ddsv5 classes (2/4/8 vCores), 1 and 3 years; 5 years skipped and said
    assert {k[0] for k in rows} == {"GP_Standard_D2ds_v5", "GP_Standard_D4ds_v5",
                                    "GP_Standard_D8ds_v5"}
    assert {k[2] for k in rows} == {1, 3} and len(rows) == 3 * 2 * 2 * 2
    assert any("5-year PostgreSQL reserved-capacity" in n for n in res.notes)
    # the DevTest meter does not become the on-demand price (0.089 stays)
    db = {(r.tier_or_instance, r.ha): r.usd_per_hour for r in res.rows["managed_db"]}
    assert db[("GP_Standard_D2ds_v5", False)] == pytest.approx(2 * 0.089)


def _no_db_overrides(tmp: Path) -> Path:
    """poc-web-db as a user would run it after a refresh: the stated database prices gone,
    so the refreshed rows (and their commitments) price it."""
    doc = yaml.safe_load((ROOT / "scenarios/poc-web-db.yaml").read_text())
    for site in doc["sites"]:
        site.pop("price_override", None)
    out = tmp / "poc-web-db-refreshed.yaml"
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return out


def test_after_a_refresh_poc_web_db_prices_1y_on_every_cloud(tmp_path):
    """A refresh of aws us-east-1 and azure eastus from the recorded answers, then `tco
    --term 1y` on that snapshot: every site priced, the databases from the new rows."""
    dest = tmp_path / "snap"
    with json_server(strict_route(AZ_VMS, extra=PG_NOISE)) as (base, _):
        cat, prov = refresh(dest, ["aws", "azure"], ["us-east-1", "eastus"],
                            fetchers={"aws": _aws(), "azure": _azure(base)})
    # every expected kind answered; GCP's db commitments carried with the reason
    why = {(c["provider"], c["region"], c["kind"]): c["why"] for c in prov["carried"]}
    assert why[("gcp", "us-central1", "db_commitments")] == "provider not asked"
    assert not [k for k in why if k[1] in ("us-east-1", "eastus") and k[2] in (
        "db_commitments", "commitments", "managed_db", "compute")], why
    assert {(r.provider, r.region) for r in rows_of(cat)} >= {
        ("aws", "us-east-1"), ("azure", "eastus"), ("gcp", "us-central1")}
    # the TCO's own lookup: RDS Multi-AZ 1y all upfront shows the amortised upfront
    rds = DbPrice(instance="db.m6i.large", ha=True, usd_per_hour=0.356,
                  storage_usd_per_gb_month=None, source="x", note="x")
    rate, _, note, _ = committed(cat, "aws", "us-east-1", rds, "1y", "all_upfront")
    assert rate == 0.205479 and "$1,800.00 upfront / 8,760 h" in note
    scenario = _no_db_overrides(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    r = subprocess.run([sys.executable, "-c", "from bakeoff.cli import main; main()", "tco",
                        str(scenario), "--term", "1y", "--snapshot", str(dest), "--format",
                        "json"], env=env, capture_output=True, text=True, timeout=300,
                       cwd=ROOT)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    out = json.loads(r.stdout[r.stdout.index("{"):])["sites"]
    assert {k: (v.get("missing", []), v.get("partial", False)) for k, v in out.items()} == {
        k: ([], False) for k in ("aws", "azure", "gcp")}
    dbs = {k: [c for c in v["components"] if c["kind"] == "database"] for k, v in out.items()}
    # aws: the RDS 1y no-upfront RI (0.2/h); azure: 4 x 467 / 8,760 = 0.213242/h; both from
    # the refreshed snapshot's db_commitments rows, over 730 h
    assert [(c["unit_price_usd"], c["quantity"]) for c in dbs["aws"]] == [(0.2, 730)]
    assert [(c["unit_price_usd"], c["quantity"]) for c in dbs["azure"]] == [(0.213242, 730)]
    assert "RDS Reserved Instance" in dbs["aws"][0]["note"]
    # compute: the refreshed c7i.xlarge RI (0.1125/h) and D4ls_v6 reservation 1003 / 8,760
    comp = {k: next(c for c in v["components"] if c["kind"] == "compute") for k, v in
            out.items()}
    assert comp["aws"]["unit_price_usd"] == 0.1125
    assert comp["azure"]["unit_price_usd"] == round(1003 / 8760, 6)


def test_dry_run_shows_the_new_rows(tmp_path):
    with json_server(strict_route(AZ_VMS, extra=PG_NOISE)) as (base, _):
        _, prov = refresh(tmp_path / "s", ["aws", "azure"], ["us-east-1", "eastus"],
                          fetchers={"aws": _aws(), "azure": _azure(base)}, dry_run=True)
    assert not (tmp_path / "s").exists()
    changes = {(c.kind, c.key, c.change) for c in prov["diff"]}
    assert {("db_commitments", "aws/us-east-1/db.m6i.large/True/1/no_upfront", "added"),
            ("db_commitments", "azure/eastus/GP_Standard_D2ds_v5/True/3/all_upfront",
             "added"),
            ("commitments", "aws/us-east-1/c7i.xlarge/1/no_upfront/savings_plan", "added"),
            } <= changes
    # the shipped Cloud SQL spend-based rows are carried; the shipped us-east-1 db.m6g.large
    # rows go, as any row of a refreshed (provider, region, kind) the answer lacks
    removed = {c[1] for c in changes if c[0] == "db_commitments" and c[2] == "removed"}
    assert removed and all(k.startswith("aws/us-east-1/db.m6g.large/") for k in removed)


def test_a_later_refresh_without_reservations_carries_them_and_says_why(tmp_path):
    dest = tmp_path / "s"
    with json_server(strict_route(extra=PG_NOISE)) as (base, _):
        refresh(dest, ["azure"], ["eastus"], fetchers={"azure": _azure(base)})
    before = [r for r in rows_of(load(dest)) if r.provider == "azure"]
    assert len(before) == 24
    # the next answer has no Flexible Server reservation at all (a changed product name)
    renamed = [dict(i, productName=i["productName"].replace("Flexible Server", "Flex"))
               if i["type"] == "Reservation" else i for i in PG_NOISE]
    with _without_fixture_reservations(), json_server(strict_route(extra=renamed)) as (base, _):
        cat, prov = refresh(dest, ["azure"], ["eastus"], fetchers={"azure": _azure(base)})
    why = {(c["provider"], c["region"], c["kind"]): c["why"] for c in prov["carried"]}
    assert why[("azure", "eastus", "db_commitments")].startswith(
        "asked, but the API returned no rows")
    assert [r for r in rows_of(cat) if r.provider == "azure"] == before


def load(dest: Path):
    from scoring.catalog_load import load_catalog

    return load_catalog(dest)


class _without_fixture_reservations:
    """The fixture's own PG list holds a 1-year vCore reservation: hide it for one answer."""

    def __enter__(self):
        import tests.prices_azure_fixture as fx

        self.fx, self.saved = fx, list(fx.PG)
        fx.PG[:] = [i for i in fx.PG if i["type"] != "Reservation"]

    def __exit__(self, *exc):
        self.fx.PG[:] = self.saved


def test_a_second_refresh_at_the_same_path_is_read_anew(tmp_path):
    """db_commitments.csv is read lazily and cached: a refresh that rewrites the snapshot at
    the same path must not leave the TCO on the old prices."""
    dest = tmp_path / "s"
    with json_server(strict_route(extra=PG_NOISE)) as (base, _):
        cat, _ = refresh(dest, ["azure"], ["eastus"], fetchers={"azure": _azure(base)})
    key = ("GP_Standard_D2ds_v5", False, 3, "all_upfront")
    first = {(r.instance, r.ha, r.term_years, r.payment): r.upfront_usd for r in rows_of(cat)}
    assert first[key] == 2 * 934.0
    dearer = [dict(i, retailPrice=1000.0, unitPrice=1000.0) if i.get("reservationTerm") ==
              "3 Years" else i for i in PG_NOISE]
    with json_server(strict_route(extra=dearer)) as (base, _):
        cat, _ = refresh(dest, ["azure"], ["eastus"], fetchers={"azure": _azure(base)})
    again = {(r.instance, r.ha, r.term_years, r.payment): r.upfront_usd for r in rows_of(cat)}
    assert again[key] == 2 * 1000.0


def test_cli_dry_run_lists_the_reserved_capacity_rows(tmp_path):
    with json_server(strict_route(extra=PG_NOISE)) as (base, _):
        env = {**os.environ, "BAKEOFF_AZURE_PRICES_URL": f"{base}/api/retail/prices",
               "COLUMNS": "250", "XDG_DATA_HOME": str(tmp_path / "xdg"),
               "PYTHONPATH": str(ROOT)}
        r = subprocess.run([sys.executable, "-c", "from bakeoff.cli import main; main()",
                            "prices", "refresh", "--provider", "azure", "--region", "eastus",
                            "--dry-run"], env=env, capture_output=True, text=True,
                           timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    out = " ".join(r.stdout.replace("│", " ").split())
    assert "dry run: nothing was written" in out
    assert "db_commitments azure/eastus/GP_Standard_D2ds_v5/True/1/all_upfront added" in out
    assert "db_commitments 24" in out  # 3 classes x HA or not x 2 terms x 2 payments
    assert "note: eastus: 1 5-year PostgreSQL reserved-capacity price(s) skipped" in out
    assert "gcp us-central1 db_commitments: 4 row(s) (provider not asked)" in out
    assert not (tmp_path / "xdg").exists()
