"""Azure internet egress: the refresh fixture, the shipped catalog and the Retail Prices API
agree on where each tier starts.

The API lists the default route's ("Rtn Preference: MGN", meter "Standard Data Transfer Out")
tiers with tierMinimumUnits 0, 100, 10,335, 51,295, 153,695 and 512,095 GB: read in
mooncitizen/togen @8b82e558 internal/resolve/azure/cost_test.go (MGN $0.087 up to 10,335 GB;
"Bandwidth - Routing Preference: Internet" $0.08 up to 10,100 GB) and in two other projects'
Retail Prices fixtures (scoring/data/pricing/PROVENANCE.md). The shipped catalog once broke
its tiers at 10,000 / 50,000 / 150,000 GB (TB x 1,000) while the fixture said 10,240 (x
1,024): neither was the API's. No live API answer was read here (no internet access).
"""

from __future__ import annotations

from scoring.catalog_load import load_catalog
from scoring.prices import refresh_azure
from scoring.tco import egress_components
from tests.prices_azure_fixture import MGN, ROUTING_INTERNET, strict_route
from tests.prices_support import json_server

# (tierMinimumUnits, retailPrice) of the MGN meter as the API lists them (sources above).
API_MGN = ((0, 0.0), (100, 0.087), (10335, 0.083), (51295, 0.07), (153695, 0.05),
           (512095, 0.05))
API_ROUTING_INTERNET_STARTS = (0, 100, 10100, 50100, 150100)


def _refreshed() -> list[tuple[float, float | None, float]]:
    with json_server(strict_route()) as (base, _):
        res = refresh_azure.fetch(["eastus"], base_url=f"{base}/api/retail/prices")
    return [(t.tier_start_gb, t.tier_end_gb, t.usd_per_gb) for t in res.rows["egress"]]


def _shipped() -> list[tuple[float, float | None, float]]:
    return [(t.tier_start_gb, t.tier_end_gb, t.usd_per_gb)
            for t in load_catalog().egress_tiers("azure", "eastus")]


def test_the_fixture_lists_the_tiers_as_the_api_does():
    assert MGN == API_MGN
    assert tuple(start for start, _ in ROUTING_INTERNET) == API_ROUTING_INTERNET_STARTS


def test_a_refresh_of_the_fixture_gives_the_shipped_catalog_rows():
    # by hand from API_MGN: each tier ends where the next starts, the last is open
    expected = [(0, 100, 0.0), (100, 10335, 0.087), (10335, 51295, 0.083),
                (51295, 153695, 0.07), (153695, 512095, 0.05), (512095, None, 0.05)]
    assert _refreshed() == expected
    assert _shipped() == expected


def test_a_month_across_the_first_boundary_is_priced_on_the_api_tiers():
    # 10,335 GB is the last GB of the $0.087 tier: 10,235 x 0.087 = $890.445 after the free
    # 100 GB; one GB more starts the $0.083 tier. On TB x 1,000 tiers the same month would
    # have cost 9,900 x 0.087 + 335 x 0.083 = $889.105.
    catalog = load_catalog()

    def total(gb: float) -> float:
        return round(sum(c.monthly_usd for c in egress_components("azure", "eastus", gb,
                                                                  catalog)), 6)

    assert total(10335) == 890.445
    assert total(10336) == round(890.445 + 0.083, 6)
