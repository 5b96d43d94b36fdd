"""AWS refresh through botocore's Stubber fed Price List items shaped like the real ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from scoring.prices import refresh_aws
from scoring.prices.snapshot import RefreshError


def _dim(usd: str, unit: str = "Hrs", **kw: str) -> dict:
    return {"rateCode": f"R.{usd}.{unit}", "description": kw.pop("description", "price"),
            "unit": unit, "pricePerUnit": {"USD": usd}, "appliesTo": [], **kw}


def _item(sku: str, family: str, attrs: dict, od: list[dict] | None = None,
          reserved: dict | None = None) -> str:
    terms: dict = {}
    if od is not None:
        terms["OnDemand"] = {f"{sku}.JRTCKXETXF": {
            "offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z",
            "priceDimensions": {f"{sku}.{i}": d for i, d in enumerate(od)},
            "termAttributes": {}}}
    if reserved:
        terms["Reserved"] = reserved
    return json.dumps({"product": {"productFamily": family, "sku": sku, "attributes": attrs},
                       "serviceCode": "x", "terms": terms, "version": "20261101",
                       "publicationDate": "2026-11-01T00:00:00Z"})


def _ri(code: str, length: str, cls: str, option: str, hourly: str, upfront: str | None) -> dict:
    dims = {"h": _dim(hourly)}
    if upfront is not None:
        dims["u"] = _dim(upfront, "Quantity", description="Upfront Fee")
    return {code: {"offerTermCode": code, "priceDimensions": dims, "termAttributes": {
        "LeaseContractLength": length, "OfferingClass": cls, "PurchaseOption": option}}}


EC2_ATTRS = {"instanceType": "c6i.xlarge", "vcpu": "4", "memory": "8 GiB",
             "operation": "RunInstances", "regionCode": "us-east-1", "tenancy": "Shared",
             "operatingSystem": "Linux", "capacitystatus": "Used", "preInstalledSw": "NA"}
C6I = _item("SKU1", "Compute Instance", EC2_ATTRS, [_dim("0.1700000000")], {
    **_ri("SKU1.1NU", "1yr", "standard", "No Upfront", "0.1070000000", None),
    **_ri("SKU1.3AU", "3yr", "standard", "All Upfront", "0.0000000000", "1927"),
    **_ri("SKU1.1CV", "1yr", "convertible", "No Upfront", "0.1220000000", None),
    **_ri("SKU1.1PU", "1yr", "standard", "Partial Upfront", "0.05", "450"),
})
ODD = [  # every one of these must be filtered out
    _item("SKU2", "Compute Instance", {**EC2_ATTRS, "operation": "RunInstances:0002"},
          [_dim("0.354")]),  # Windows
    _item("SKU3", "Compute Instance", {**EC2_ATTRS, "instanceType": "t3.micro"},
          [_dim("0.0104")]),  # not a wanted series
    _item("SKU4", "Compute Instance", EC2_ATTRS | {"instanceType": "c6i.large"},
          [_dim("0.0000000000")]),  # zero-priced placeholder
]
RDS = [
    _item("R1", "Database Instance", {"instanceType": "db.m6i.large", "vcpu": "2",
          "memory": "8 GiB", "deploymentOption": "Multi-AZ", "databaseEngine": "PostgreSQL"},
          [_dim("0.356")]),
    _item("R2", "Database Instance", {"instanceType": "db.t4g.medium", "vcpu": "2",
          "memory": "4 GiB", "deploymentOption": "Single-AZ", "databaseEngine": "PostgreSQL"},
          [_dim("0.065")]),
    _item("R3", "Database Instance", {"instanceType": "db.m6i.large", "vcpu": "2",
          "memory": "8 GiB", "deploymentOption": "Multi-AZ (readable standbys)",
          "databaseEngine": "PostgreSQL"}, [_dim("0.5")]),
    _item("R4", "Database Storage", {"volumeType": "General Purpose-GP3",
          "deploymentOption": "Multi-AZ"}, [_dim("0.23", "GB-Mo")]),
]
EBS = {"Storage": [_item("E1", "Storage", {"volumeApiName": "gp3"}, [_dim("0.08", "GB-Mo")]),
                   _item("E3", "Storage", {"volumeApiName": "io2"}, [_dim("0.125", "GB-Mo")])],
       "System Operation": [
           _item("E2", "System Operation", {"volumeApiName": "gp3",
                                            "usagetype": "EBS:VolumeP-IOPS.gp3"},
                 [_dim("0.005", "IOPS-Mo")]),
           # io2 IOPS are three products, one per tier; tier 1 (up to 32,000) is the rate a
           # PoC volume pays, and the cheaper tiers must not overwrite it
           _item("E4", "System Operation", {"volumeApiName": "io2",
                                            "usagetype": "EBS:VolumeP-IOPS.io2"},
                 [_dim("0.065", "IOPS-Mo")]),
           _item("E5", "System Operation", {"volumeApiName": "io2",
                                            "usagetype": "EBS:VolumeP-IOPS.io2.tier2"},
                 [_dim("0.0455", "IOPS-Mo")]),
           _item("E6", "System Operation", {"volumeApiName": "io2",
                                            "usagetype": "EBS:VolumeP-IOPS.io2.tier3"},
                 [_dim("0.03185", "IOPS-Mo")])],
       "Provisioned Throughput": []}
# The regional Price List starts the internet tiers at 0 GB at a price: the free 100 GB a month
# (per account, all regions) is not in it.
DT = [_item("T1", "Data Transfer", {"transferType": "AWS Outbound", "toLocation": "External"},
            [_dim("0.09", "GB", beginRange="0", endRange="10240"),
             _dim("0.085", "GB", beginRange="10240", endRange="51200"),
             _dim("0.07", "GB", beginRange="51200", endRange="153600"),
             _dim("0.05", "GB", beginRange="153600", endRange="Inf")]),
      _item("T2", "Data Transfer", {"transferType": "IntraRegion"}, [_dim("0.01", "GB")])]


def _page(items: list[str], token: str | None = None) -> dict:
    page = {"FormatVersion": "aws_v1", "PriceList": items}
    if token:
        page["NextToken"] = token
    return page


def _tm(**fields: str) -> list[dict]:
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in fields.items()]


def _stub(client, region: str = "us-east-1") -> Stubber:
    """The Stubber checks every query's Filters exactly (no ANY): a refresh that drops the
    region, the Linux/shared-tenancy filters or the product family fails here."""
    st = Stubber(client)
    ec2_q = {"ServiceCode": "AmazonEC2", "MaxResults": 100, "Filters": _tm(
        regionCode=region, operatingSystem="Linux", tenancy="Shared", preInstalledSw="NA",
        capacitystatus="Used", licenseModel="No License required")}
    st.add_response("get_products", _page([C6I, ODD[0]], "tok"), ec2_q)
    st.add_response("get_products", _page(ODD[1:]), {**ec2_q, "NextToken": "tok"})
    st.add_response("get_products", _page(RDS), {
        "ServiceCode": "AmazonRDS", "MaxResults": 100,
        "Filters": _tm(regionCode=region, databaseEngine="PostgreSQL")})
    for fam in ("Storage", "System Operation", "Provisioned Throughput"):
        st.add_response("get_products", _page(EBS[fam]), {
            "ServiceCode": "AmazonEC2", "MaxResults": 100,
            "Filters": _tm(regionCode=region, productFamily=fam)})
    st.add_response("get_products", _page(DT), {
        "ServiceCode": "AWSDataTransfer", "MaxResults": 100,
        "Filters": _tm(fromRegionCode=region)})
    return st


def _client(name: str):
    return boto3.client(name, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test")


def test_aws_price_list_items_become_rows():
    pricing, ec2 = _client("pricing"), _client("ec2")
    spot = Stubber(ec2)
    spot.add_response("describe_spot_price_history", {"SpotPriceHistory": [
        {"InstanceType": "c6i.xlarge", "SpotPrice": p, "AvailabilityZone": z,
         "ProductDescription": "Linux/UNIX", "Timestamp": datetime.now(UTC)}
        for z, p in (("us-east-1a", "0.06"), ("us-east-1b", "0.07"), ("us-east-1c", "0.09"))]})
    with _stub(pricing) as st, spot:
        res = refresh_aws.fetch(["us-east-1"], client=pricing, ec2_factory=lambda r: ec2)
        st.assert_no_pending_responses()
    (vm,) = res.rows["compute"]
    assert (vm.instance_type, vm.ondemand_usd_per_hour, vm.vcpus, vm.memory_gib) == (
        "c6i.xlarge", 0.17, 4, 8.0)
    assert vm.sku == "SKU1" and vm.spot_usd_per_hour == 0.07  # median of three AZs
    ri = {(c.term_years, c.payment): (c.effective_usd_per_hour, c.upfront_usd)
          for c in res.rows["commitments"]}
    # convertible offers are dropped; an upfront fee is spread over the term's hours and kept:
    # all upfront 1927 / (3 x 8760 h) = 0.073326; partial upfront 0.05 + 450 / 8760 = 0.101370
    assert ri == {(1, "no_upfront"): (0.107, None),
                  (3, "all_upfront"): (round(1927 / 26280, 6), 1927.0),
                  (1, "partial_upfront"): (round(0.05 + 450 / 8760, 6), 450.0)}
    db = {(r.tier_or_instance, r.ha): r for r in res.rows["managed_db"]}
    assert set(db) == {("db.m6i.large", True), ("db.t4g.medium", False)}
    assert db[("db.m6i.large", True)].storage_usd_per_gb_month == 0.23
    assert db[("db.t4g.medium", False)].burstable and not db[("db.m6i.large", True)].burstable
    vols = {r.volume_type: r for r in res.rows["storage"]}
    gp3, io2 = vols["gp3"], vols["io2"]
    assert (gp3.usd_per_gb_month, gp3.iops_usd_per_month, gp3.iops_included) == (0.08, 0.005,
                                                                                  3000)
    assert io2.iops_usd_per_month == 0.065  # tier 1, not the last-read tier3 0.03185
    edges = [(t.tier_start_gb, t.tier_end_gb, t.usd_per_gb) for t in res.rows["egress"]]
    # the free 100 GB split off the first tier: 0-100 free, 100-10240 at 0.09
    assert edges == [(0, 100, 0.0), (100, 10240, 0.09), (10240, 51200, 0.085),
                     (51200, 153600, 0.07), (153600, None, 0.05)]
    assert "free" in res.rows["egress"][0].tier_as_published
    (xaz,) = res.rows["services"]
    assert (xaz.item, xaz.usd_per_unit) == ("cross_az_gb", 0.01)


def test_aws_refused_query_is_a_refresh_error():
    pricing = _client("pricing")
    with Stubber(pricing) as st:
        st.add_client_error("get_products", "AccessDeniedException", "not authorized")
        with pytest.raises(RefreshError, match="refused the query"):
            refresh_aws.fetch(["us-east-1"], client=pricing, ec2_factory=lambda r: None)
