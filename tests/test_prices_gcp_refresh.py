"""GCP refresh through the real google-cloud-billing REST client against recorded SKU pages on
loopback; then the snapshot rules (atomic write, carry-over, diff, failure keeps the old one)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import billing_v1
from typer.testing import CliRunner

from bakeoff.cli import app
from scoring.catalog_load import load_catalog
from scoring.catalog_rows import ComputeRow, ServiceRow
from scoring.prices import refresh_gcp
from scoring.prices.common import ProviderResult
from scoring.prices.diff import diff
from scoring.prices.refresh import refresh
from scoring.prices.snapshot import RefreshError
from tests.prices_support import json_server


def _sku(sid: str, desc: str, usage: str, price: float, group: str = "CPU",
         regions: tuple[str, ...] = ("us-central1",)) -> dict:
    units, nanos = int(price), round((price - int(price)) * 1e9)
    return {"name": f"services/x/skus/{sid}", "skuId": sid, "description": desc,
            "category": {"serviceDisplayName": "Compute Engine", "resourceFamily": "Compute",
                         "resourceGroup": group, "usageType": usage},
            "serviceRegions": list(regions),
            "pricingInfo": [{"pricingExpression": {"usageUnit": "h", "tieredRates": [
                {"startUsageAmount": 0,
                 "unitPrice": {"currencyCode": "USD", "units": str(units), "nanos": nanos}}]}}]}


COMPUTE_1 = [
    _sku("A1", "C2D AMD Instance Core running in Americas", "OnDemand", 0.03),
    _sku("A2", "C2D AMD Instance Ram running in Americas", "OnDemand", 0.004, "RAM"),
    _sku("A3", "Spot Preemptible C2D AMD Instance Core running in Americas", "Preemptible",
         0.009),
    _sku("A4", "Spot Preemptible C2D AMD Instance Ram running in Americas", "Preemptible",
         0.0012, "RAM"),
    _sku("A9", "C2D AMD Custom Instance Core running in Americas", "OnDemand", 0.5),  # custom
]
COMPUTE_2 = [
    _sku("A5", "Commitment v1: C2D AMD Cpu in Americas for 1 Year", "Commit1Yr", 0.019),
    _sku("A6", "Commitment v1: C2D AMD Ram in Americas for 1 Year", "Commit1Yr", 0.0025, "RAM"),
    _sku("A7", "C2D AMD Instance Core running in Belgium", "OnDemand", 9.0,
         regions=("europe-west1",)),
    _sku("D1", "SSD backed PD Capacity in Americas", "OnDemand", 0.17, "SSD"),
]
SQL = [_sku("S1", "Cloud SQL for PostgreSQL: Regional - vCPU in Americas", "OnDemand", 0.0826),
       _sku("S2", "Cloud SQL for PostgreSQL: Regional - RAM in Americas", "OnDemand", 0.014,
            "RAM"),
       _sku("S3", "Cloud SQL for PostgreSQL: Regional - Standard storage in Americas",
            "OnDemand", 0.34, "SSD")]


def route(path: str, q: dict, base: str) -> dict | tuple[int, dict]:
    # only the two services' SKU lists exist; another path is the API's 404
    if path == "/v1/services/9662-B51E-5089/skus":
        return {"skus": SQL}
    if path != "/v1/services/6F81-5844-456A/skus":
        return 404, {"error": {"code": 404, "message": f"{path} not found",
                               "status": "NOT_FOUND"}}
    if q.get("pageToken") == ["p2"]:
        return {"skus": COMPUTE_2}
    return {"skus": COMPUTE_1, "nextPageToken": "p2"}


def test_gcp_sku_composition_by_hand():
    with json_server(route) as (base, log):
        client = billing_v1.CloudCatalogClient(
            transport="rest", credentials=AnonymousCredentials(),
            client_options={"api_endpoint": base})
        res = refresh_gcp.fetch(["us-central1"], client=client)
    assert any("pageToken=p2" in p for p in log)
    rows = {r.instance_type: r for r in res.rows["compute"]}
    hc4 = rows["c2d-highcpu-4"]
    # by hand: 4 vCPU x 0.03 + 8 GB x 0.004 = 0.152; spot 4 x 0.009 + 8 x 0.0012 = 0.0456
    assert hc4.ondemand_usd_per_hour == pytest.approx(0.152)
    assert hc4.spot_usd_per_hour == pytest.approx(0.0456)
    assert (hc4.vcpus, hc4.memory_gib, hc4.family) == (4, 8, "compute")
    assert rows["c2d-highmem-2"].ondemand_usd_per_hour == pytest.approx(2 * 0.03 + 16 * 0.004)
    assert rows["c2d-standard-4"].family == "general"
    cud = {(c.instance_type, c.term_years): c.effective_usd_per_hour
           for c in res.rows["commitments"]}
    assert cud[("c2d-highcpu-4", 1)] == pytest.approx(4 * 0.019 + 8 * 0.0025)
    assert ("c2d-highcpu-4", 3) not in cud  # no 3-year SKU in the answer: not guessed
    assert res.rows["storage"][0].usd_per_gb_month == pytest.approx(0.17)
    units = {r.tier_or_instance: r.usd_per_hour for r in res.rows["managed_db"] if r.ha}
    assert units == {"enterprise:per-vCPU-hour": pytest.approx(0.0826),
                     "enterprise:per-GiB-RAM-hour": pytest.approx(0.014)}


def _fake(provider: str, price: float, regions_seen: list[str] | None = None):
    def fetch(regions: list[str]) -> ProviderResult:
        if regions_seen is not None:
            regions_seen.extend(regions)
        res = ProviderResult(provider, "fake API", regions, "2026-11-27T00:00:00+00:00")
        for r in regions:
            res.add("services", ServiceRow(
                provider=provider, region=r, item="cross_az_gb", unit="GB", usd_per_unit=0.02,
                as_published="fake", source="fake API", confidence="provider_api"))
            res.add("compute", ComputeRow(
                provider=provider, region=r, instance_type="c6i.xlarge", family="compute",
                vcpus=4, memory_gib=8, ondemand_usd_per_hour=price, source="fake API",
                retrieved_at="2026-11-27T00:00:00+00:00", confidence="provider_api"))
        return res
    return fetch


def _failing(regions: list[str]) -> ProviderResult:
    raise RefreshError("cannot reach the API (test)")


def _digest(d: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(d.rglob("*")):
        if f.is_file():
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


def test_partial_refresh_carries_and_says_so_then_diff(tmp_path):
    dest = tmp_path / "snap"
    cat, prov = refresh(dest, ["aws"], ["us-east-1"], fetchers={"aws": _fake("aws", 0.17)})
    assert cat.compute("aws", "us-east-1", "c6i.xlarge").ondemand_usd_per_hour == 0.17
    # every other (provider, region, kind) came from the shipped snapshot and is listed
    carried = {(c["provider"], c["region"], c["kind"]) for c in prov["carried"]}
    assert ("gcp", "us-central1", "compute") in carried
    assert ("aws", "us-east-1", "compute") not in carried
    assert ("aws", "us-east-1", "egress/all") in carried  # not fetched by the fake: carried
    # a refreshed cross-AZ price replaces only that item; the load balancer rows are carried
    assert ("aws", "us-east-1", "services/lb_hour") in carried
    assert cat.service("aws", "us-east-1", "cross_az_gb").usd_per_unit == 0.02
    assert cat.service("aws", "us-east-1", "lb_hour").usd_per_unit == 0.0225
    assert not any(r.region == "us-east-1" and r.instance_type == "m6i.xlarge"
                   for r in cat.compute_rows("aws"))  # old rows of a refreshed part dropped
    cat2, _ = refresh(dest, ["aws"], ["us-east-1"], fetchers={"aws": _fake("aws", 0.2)})
    assert (dest.parent / "snap.previous" / "pricing").is_dir()
    changes = diff(load_catalog(dest.parent / "snap.previous"), cat2)
    assert [(c.kind, c.key, c.old, c.new) for c in changes] == [
        ("compute", "aws/us-east-1/c6i.xlarge", 0.17, 0.2)]
    shipped = diff(load_catalog(), cat)
    assert ("services", "aws/us-east-1/cross_az_gb", "changed") in {
        (c.kind, c.key, c.change) for c in shipped}
    assert any(c.change == "removed" and c.key == "aws/us-east-1/m6i.xlarge" for c in shipped)


def test_failed_refresh_leaves_the_old_snapshot_intact(tmp_path):
    dest = tmp_path / "snap"
    refresh(dest, ["aws"], ["us-east-1"], fetchers={"aws": _fake("aws", 0.17)})
    before = _digest(dest)
    with pytest.raises(RefreshError, match=r"previous snapshot .* is kept"):
        refresh(dest, ["aws", "gcp"], None,
                fetchers={"aws": _fake("aws", 0.5), "gcp": _failing})
    with pytest.raises(RefreshError, match="no compute prices for eu-west-1"):
        refresh(dest, ["aws"], ["us-east-1", "eu-west-1"],
                fetchers={"aws": lambda regs: _fake("aws", 0.5)(["us-east-1"])})
    assert _digest(dest) == before
    assert [p.name for p in tmp_path.iterdir()] == ["snap"]  # no temporary left behind


def test_cli_refresh_offline_is_a_message_not_a_traceback(tmp_path):
    with json_server(route) as (base, _):
        pass  # closed port: connection refused, like a machine with no internet
    env = {**os.environ, "BAKEOFF_AZURE_PRICES_URL": base, "COLUMNS": "300"}
    r = subprocess.run([sys.executable, "-c", "from bakeoff.cli import main; main()",
                        "prices", "refresh", "--provider", "azure", "--out",
                        str(tmp_path / "s")], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 12, r.stderr
    assert "cannot reach the Azure Retail Prices API" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout and not (tmp_path / "s").exists()
    r = CliRunner().invoke(app, ["prices", "diff", "shipped", "shipped"])
    assert r.exit_code == 0 and "0 changed, 0 added, 0 removed" in r.output


def _doc_sku(sid: str, desc: str, usage: str, tiers: list[tuple[float, float]],
             group: str = "CPU", unit: str = "h", currency: str = "USD") -> dict:
    """A Sku with every documented field (cloud.google.com/billing/docs/reference/rest/v1/
    services.skus#Sku, read 2026-12): tiered rates as (startUsageAmount, price)."""
    return {"name": f"services/6F81-5844-456A/skus/{sid}", "skuId": sid, "description": desc,
            "category": {"serviceDisplayName": "Compute Engine", "resourceFamily": "Compute",
                         "resourceGroup": group, "usageType": usage},
            "serviceRegions": ["us-central1"],
            "pricingInfo": [{
                "summary": "", "pricingExpression": {
                    "usageUnit": unit, "displayQuantity": 1,
                    "tieredRates": [{"startUsageAmount": start, "unitPrice": {
                        "currencyCode": currency, "units": str(int(p)),
                        "nanos": round((p - int(p)) * 1e9)}} for start, p in tiers],
                    "usageUnitDescription": "hour", "baseUnit": "s",
                    "baseUnitDescription": "second", "baseUnitConversionFactor": 3600},
                "aggregationInfo": {"aggregationLevel": "ACCOUNT",
                                    "aggregationInterval": "MONTHLY"},
                "currencyConversionRate": 1, "effectiveTime": "2026-11-01T00:00:00Z"}],
            "serviceProviderName": "Google",
            "geoTaxonomy": {"type": "REGIONAL", "regions": ["us-central1"]}}


# N2D, C3D, E2 and N1 (whose SKUs say "Predefined"), with the noise of a real catalog: a SKU
# tiered as a free allowance then a rate then a volume discount (take the rate, not the last
# tier), sole-tenancy and custom SKUs, and N1 CUDs that name no series.
MORE = [
    _doc_sku("N1", "N2D AMD Instance Core running in Americas", "OnDemand",
             [(0, 0.0), (100, 0.021811), (1e6, 0.0199)]),
    _doc_sku("N2", "N2D AMD Instance Ram running in Americas", "OnDemand",
             [(0, 0.002923)], "RAM"),
    _doc_sku("N3", "N2D AMD Sole Tenancy Instance Core running in Americas", "OnDemand",
             [(0, 0.5)]),
    _doc_sku("C1", "C3D Instance Core running in Americas", "OnDemand", [(0, 0.029563)]),
    _doc_sku("C2", "C3D Instance Ram running in Americas", "OnDemand", [(0, 0.003963)],
             "RAM"),
    _doc_sku("E1", "E2 Instance Core running in Americas", "OnDemand", [(0, 0.021811)]),
    _doc_sku("E2", "E2 Instance Ram running in Americas", "OnDemand", [(0, 0.002923)], "RAM"),
    _doc_sku("P1", "N1 Predefined Instance Core running in Americas", "OnDemand",
             [(0, 0.031611)]),
    _doc_sku("P2", "N1 Predefined Instance Ram running in Americas", "OnDemand",
             [(0, 0.004237)], "RAM"),
    _doc_sku("P3", "Commitment v1: Cpu in Americas for 1 Year", "Commit1Yr", [(0, 0.019915)]),
    # internet egress: one tiered SKU per destination group (GiB a month): the one to the
    # Americas is the default route, China is priced apart, inter-region SKUs are other charges
    _doc_sku("G1", "Network Internet Data Transfer Out from Americas to Americas", "OnDemand",
             [(0, 0.12), (1024, 0.11), (10240, 0.08)], "PremiumInternetEgress", "GiBy"),
    _doc_sku("G2", "Network Internet Data Transfer Out from Americas to China", "OnDemand",
             [(0, 0.23), (1024, 0.22), (10240, 0.20)], "PremiumInternetEgress", "GiBy"),
    _doc_sku("G3", "Network Inter Region Data Transfer Out from Americas to EMEA", "OnDemand",
             [(0, 0.05)], "InterregionEgress", "GiBy"),
]


def _more_route(path: str, q: dict, base: str) -> dict:
    return {"skus": SQL} if "9662-B51E-5089" in path else {"skus": MORE}


def test_gcp_documented_skus_tiers_and_more_series():
    with json_server(_more_route) as (base, _):
        client = billing_v1.CloudCatalogClient(
            transport="rest", credentials=AnonymousCredentials(),
            client_options={"api_endpoint": base})
        res = refresh_gcp.fetch(["us-central1"], client=client)
    rows = {r.instance_type: r for r in res.rows["compute"]}
    # n2d-standard-4 = 4 x 0.021811 + 16 x 0.002923 = 0.087244 + 0.046768 = 0.134012
    # (the volume tier 0.0199 would give 0.126368; the sole-tenancy SKU 0.5 is not the core)
    assert rows["n2d-standard-4"].ondemand_usd_per_hour == pytest.approx(0.134012)
    # c3d-highcpu-4 = 4 x 0.029563 + 8 x 0.003963 = 0.118252 + 0.031704 = 0.149956
    assert rows["c3d-highcpu-4"].ondemand_usd_per_hour == pytest.approx(0.149956)
    assert "c3d-highcpu-2" not in rows                      # C3D has no 2-vCPU shape
    # n1-standard-4 = 4 x 0.031611 + 15 x 0.004237 = 0.126444 + 0.063555 = 0.189999
    assert rows["n1-standard-4"].ondemand_usd_per_hour == pytest.approx(0.189999)
    assert rows["n1-standard-4"].memory_gib == 15
    assert "e2-standard-4" in rows
    eg = [(t.tier_start_gb, t.tier_end_gb, t.usd_per_gb) for t in res.rows["egress"]
          if t.destination == "default"]  # China: tests/test_prices_gcp_egress_destinations.py
    assert eg == [(0, 1024, 0.12), (1024, 10240, 0.11), (10240, None, 0.08)]
    # N1 CUDs name no series: never attached to a series by guess
    assert not any(c.instance_type.startswith("n1-") for c in res.rows.get("commitments", []))


def test_gcp_non_usd_sku_is_refused():
    eur = [_doc_sku("X1", "E2 Instance Core running in Americas", "OnDemand", [(0, 0.02)],
                    currency="EUR")]
    with json_server(lambda p, q, b: {"skus": [] if "9662" in p else eur}) as (base, _):
        client = billing_v1.CloudCatalogClient(
            transport="rest", credentials=AnonymousCredentials(),
            client_options={"api_endpoint": base})
        with pytest.raises(RefreshError, match="EUR, not USD"):
            refresh_gcp.fetch(["us-central1"], client=client)
