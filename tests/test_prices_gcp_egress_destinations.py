"""Internet egress by destination: the usage shares, each share on its own tier ladder (GCP
bills China and Australia as their own SKUs), a missing destination price named, and the GCP
refresh fetching the China/Australia SKUs (or carrying them, said so) from recorded pages.

Expected values are worked by hand next to each assert from the tiers in
Cyclenerd/google-cloud-pricing-cost-calculator@fd66b26:pricing.yml (us-central1: default
0.12/0.11/0.08, China 0.23/0.22/0.20, Australia 0.19/0.18/0.15 $/GiB over 0-1/1-10/10+ TiB).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import billing_v1

from bench.scenarios import load_campaign_file, parse_campaign
from core.errors import ScenarioError
from scoring.catalog_load import load_catalog
from scoring.prices import refresh_gcp
from scoring.prices.refresh import refresh
from scoring.prices.snapshot import RefreshError
from scoring.tco import MissingPrices, estimate_site
from tests.prices_support import json_server
from tests.test_prices_gcp_refresh import MORE, SQL, _doc_sku

ROOT = Path(__file__).resolve().parents[1]
GCP = {"provider": "gcp", "region": "us-central1", "zones": ["us-central1-a"],
       "instance_type": "c3-standard-4"}
AWS = {"provider": "aws", "region": "us-east-1", "zones": ["us-east-1a"],
       "instance_type": "c6i.xlarge"}


def campaign(site: dict, **usage):
    return parse_campaign({"name": "t", "sites": [{"name": "s", **site}],
                           "usage": {"hours_per_month": 730, "instances": 1, **usage}})


def egress(cost) -> list[tuple[str, float, float]]:
    return [(c.name, c.quantity, c.unit_price_usd) for c in cost.components
            if c.kind == "egress"]


def test_gcp_shares_each_climb_their_own_ladder():
    cost = estimate_site(campaign(GCP, egress_gb_per_month=20000,
                                  egress_destinations={"default": 0.9, "australia": 0.1}), "s")
    # default 18,000 GB: 1,024 x 0.12 = 122.88; 9,216 x 0.11 = 1,013.76; 7,760 x 0.08 = 620.80
    # australia 2,000 GB from 0 on its own ladder: 1,024 x 0.19 = 194.56; 976 x 0.18 = 175.68
    assert egress(cost) == [
        ("internet egress 0-1024 GB", 1024, 0.12),
        ("internet egress 1024-10240 GB", 9216, 0.11),
        ("internet egress 10240- GB", 7760, 0.08),
        ("internet egress to australia 0-1024 GB", 1024, 0.19),
        ("internet egress to australia 1024-10240 GB", 976, 0.18)]
    total = sum(c.monthly_usd for c in cost.components if c.kind == "egress")
    assert total == pytest.approx(122.88 + 1013.76 + 620.80 + 194.56 + 175.68)  # 2,127.68
    assert any("each destination on its own tier ladder" in c for c in cost.caveats)


def test_gcp_china_half_and_the_default_mix_is_unchanged():
    mixed = estimate_site(campaign(GCP, egress_gb_per_month=3000,
                                   egress_destinations={"default": 0.5, "china": 0.5}), "s")
    # default 1,500: 1,024 x 0.12 + 476 x 0.11 = 122.88 + 52.36 = 175.24
    # china 1,500:   1,024 x 0.23 + 476 x 0.22 = 235.52 + 104.72 = 340.24
    eg = sum(c.monthly_usd for c in mixed.components if c.kind == "egress")
    assert eg == pytest.approx(175.24 + 340.24)
    plain = estimate_site(campaign(GCP, egress_gb_per_month=3000), "s")
    # no shares = all default: 1,024 x 0.12 + 1,976 x 0.11 = 122.88 + 217.36 = 340.24
    assert sum(c.monthly_usd for c in plain.components if c.kind == "egress") == \
        pytest.approx(340.24)
    assert egress(plain) == egress(estimate_site(campaign(
        GCP, egress_gb_per_month=3000, egress_destinations={"default": 1}), "s"))


def test_aws_prices_every_destination_on_one_ladder_and_says_so():
    cost = estimate_site(campaign(AWS, egress_gb_per_month=20000,
                                  egress_destinations={"default": 0.9, "australia": 0.1}), "s")
    # AWS egress rows are destination "all": the 20,000 GB climb one ladder:
    # 100 x 0 + 10,140 x 0.09 = 912.60; 9,760 x 0.085 = 829.60 -> 1,742.20
    assert [(q, p) for _, q, p in egress(cost)] == [(100, 0), (10140, 0.09), (9760, 0.085)]
    assert any("by source region only" in c for c in cost.caveats)


def _without(tmp_path: Path, destination: str) -> Path:
    d = tmp_path / "data"
    shutil.copytree(ROOT / "scoring" / "data", d)
    p = d / "pricing" / "egress.csv"
    rows = list(csv.DictReader(p.open(newline="", encoding="utf-8")))
    with p.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(r for r in rows if r["destination"] != destination)
    return d


def test_a_destination_without_rows_is_a_named_missing_price_not_zero(tmp_path):
    cat = load_catalog(_without(tmp_path, "australia"))
    c = campaign(GCP, egress_gb_per_month=20000,
                 egress_destinations={"default": 0.9, "australia": 0.1})
    with pytest.raises(MissingPrices) as e:
        estimate_site(c, "s", cat)
    assert len(e.value.missing) == 1
    assert "no internet egress price to destination 'australia'" in e.value.missing[0]
    # the priced part still holds the default share, and nothing priced the australia GB
    part = [x for x in e.value.partial.components if x.kind == "egress"]
    assert sum(x.quantity for x in part) == pytest.approx(18000)


@pytest.mark.parametrize(("shares", "expect"), [
    ({"default": 0.8, "china": 0.1}, "add up to 1, they add up to 0.9"),
    ({"default": 1.2, "china": -0.2}, "between 0 and 1"),
    ({"default": 0.9, "austrlia": 0.1}, "austrlia"),
])
def test_bad_shares_are_a_scenario_error_naming_file_and_field(tmp_path, shares, expect):
    f = tmp_path / "s.yaml"
    body = ", ".join(f"{k}: {v}" for k, v in shares.items())
    f.write_text("name: t\nsites:\n  - name: s\n    provider: gcp\n    region: us-central1\n"
                 "    zones: [us-central1-a]\n    instance_type: c3-standard-4\n"
                 f"usage:\n  egress_gb_per_month: 100\n  egress_destinations: {{{body}}}\n")
    with pytest.raises(ScenarioError) as e:
        load_campaign_file(f)
    msg = str(e.value)
    assert str(f) in msg and "usage.egress_destinations" in msg and expect in msg


# Recorded Cloud Billing Catalog pages (documented Sku shape, tests/test_prices_gcp_refresh.py)
# with the noise a real catalog has: the same destinations from another source region, the
# VPN egress SKU priced like it, inter-region transfer, and Standard Tier egress.
def _egress_sku(sid: str, desc: str, tiers: list[tuple[float, float]],
                regions: tuple[str, ...] = ("us-central1",), group: str = "PremiumInternetEgress"
                ) -> dict:
    s = _doc_sku(sid, desc, "OnDemand", tiers, group, "GiBy")
    s["serviceRegions"] = list(regions)
    s["geoTaxonomy"] = {"type": "MULTI_REGIONAL" if len(regions) > 1 else "REGIONAL",
                        "regions": list(regions)}
    return s


AMERICAS = [(0, 0.12), (1024, 0.11), (10240, 0.08)]
CHINA = [(0, 0.23), (1024, 0.22), (10240, 0.20)]
AUSTRALIA = [(0, 0.19), (1024, 0.18), (10240, 0.15)]
SRC = "Network Internet Data Transfer Out from Americas to"
EGRESS = [
    _egress_sku("E1", f"{SRC} Americas", AMERICAS, ("us-central1", "us-east1")),
    _egress_sku("E2", f"{SRC} China", CHINA, ("us-central1", "us-east1")),
    _egress_sku("E3", f"{SRC} Australia", AUSTRALIA, ("us-central1", "us-east1")),
    # noise
    _egress_sku("N1", "Network Internet Data Transfer Out from EMEA to China",
                [(0, 0.99), (1024, 0.98)], ("europe-west1",)),
    _egress_sku("N2", "Network Vpn Internet Egress from Americas to Australia", AUSTRALIA,
                group="VPNInternetEgress"),
    _egress_sku("N3", "Network Inter Region Data Transfer Out from Americas to EMEA",
                [(0, 0.05)], group="InterregionEgress"),
    _egress_sku("N4", "Network Internet Egress from Americas to China (Standard Tier)",
                [(0, 0.5)], group="StandardInternetEgress"),
]
COMPUTE = [s for s in MORE if not s["skuId"].startswith("G")]


def _client(base: str) -> billing_v1.CloudCatalogClient:
    return billing_v1.CloudCatalogClient(transport="rest", credentials=AnonymousCredentials(),
                                         client_options={"api_endpoint": base})


def _route(skus: list[dict]):
    half = len(skus) // 2

    def route(path: str, q: dict, base: str) -> dict:
        if "9662-B51E-5089" in path:
            return {"skus": SQL}
        if q.get("pageToken") == ["p2"]:
            return {"skus": skus[half:]}
        return {"skus": skus[:half], "nextPageToken": "p2"}
    return route


def test_refresh_fetches_every_destination_from_recorded_pages():
    with json_server(_route(COMPUTE + EGRESS)) as (base, log):
        res = refresh_gcp.fetch(["us-central1"], client=_client(base))
    assert any("pageToken=p2" in p for p in log)  # the second page was read
    got = {}
    for t in res.rows["egress"]:
        got.setdefault(t.destination, []).append((t.tier_start_gb, t.tier_end_gb, t.usd_per_gb))
    assert got == {
        "default": [(0, 1024, 0.12), (1024, 10240, 0.11), (10240, None, 0.08)],
        "china": [(0, 1024, 0.23), (1024, 10240, 0.22), (10240, None, 0.20)],
        "australia": [(0, 1024, 0.19), (1024, 10240, 0.18), (10240, None, 0.15)]}
    # the refreshed tiers are the shipped ones (the same source, read two ways)
    shipped = load_catalog()
    for dest, tiers in got.items():
        rows = shipped.egress_tiers("gcp", "us-central1", dest)
        assert [(r.tier_start_gb, r.tier_end_gb, r.usd_per_gb) for r in rows] == tiers


def test_refresh_without_the_china_sku_carries_it_and_says_why(tmp_path):
    no_china = [s for s in COMPUTE + EGRESS if s["skuId"] != "E2"]
    with json_server(_route(no_china)) as (base, _):
        client = _client(base)
        cat, prov = refresh(tmp_path / "snap", ["gcp"], ["us-central1"],
                            fetchers={"gcp": lambda regs: refresh_gcp.fetch(regs,
                                                                            client=client)})
    carried = {(c["provider"], c["region"], c["kind"]): c["why"] for c in prov["carried"]}
    assert carried[("gcp", "us-central1", "egress/china")].startswith("asked, but the API")
    assert ("gcp", "us-central1", "egress/australia") not in carried  # fetched fresh
    # the China ladder is still priced after the refresh (carried, not dropped)
    assert [t.usd_per_gb for t in cat.egress_tiers("gcp", "us-central1", "china")] == \
        [0.23, 0.22, 0.2]
    assert any("no internet egress SKU to china" in n
               for n in prov["providers"]["gcp"]["notes"])


def test_refresh_refuses_two_skus_for_one_destination():
    twice = COMPUTE + EGRESS + [_egress_sku("E9", f"{SRC} China", [(0, 0.3)])]
    with json_server(_route(twice)) as (base, _), \
            pytest.raises(RefreshError, match="egress to China: two SKUs"):
        refresh_gcp.fetch(["us-central1"], client=_client(base))
