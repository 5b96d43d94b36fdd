"""Per-request cost of a function site, recomputed by hand from platforms.csv's rows.

Profile (scenarios/serverless.yaml): 5,000,000 requests a month, 120 ms each.

AWS Lambda x86_64, 1024 MB (rows: $0.20 per 1M requests, 1M free; $0.0000166667 per
GB-second, 400,000 GB-s free; billed per 1 ms):
  requests: (5,000,000 - 1,000,000) x 0.0000002 = $0.80
  GB-s: 5,000,000 x 0.120 s x 1 GB = 600,000; (600,000 - 400,000) x 0.0000166667 = $3.33334
  total $4.13334
Google Cloud Run request-based, 1 vCPU, 1024 MiB (rows: $0.40 per 1M requests, 2M free;
$0.000024 per vCPU-s, 180,000 free; $0.0000025 per GiB-s, 360,000 free; 120 ms rounds up
to 200 ms):
  requests: (5,000,000 - 2,000,000) x 0.0000004 = $1.20
  vCPU-s: 5,000,000 x 0.2 = 1,000,000; (1,000,000 - 180,000) x 0.000024 = $19.68
  GiB-s: 1,000,000 x 1 GiB = 1,000,000; (1,000,000 - 360,000) x 0.0000025 = $1.60
  total $22.48
Azure Functions Flex Consumption on demand, 2048 MB (rows: $0.000004 per 10 executions =
$0.0000004 each, 250,000 free; $0.000026 per GB-s, 100,000 free):
  executions: (5,000,000 - 250,000) x 0.0000004 = $1.90
  GB-s: 5,000,000 x 0.120 x 2 = 1,200,000; (1,200,000 - 100,000) x 0.000026 = $28.60
  total $30.50
Without the executions row (planted below): "price not found", never a $0 line.
"""

from __future__ import annotations

import copy

import pytest

from bench.scenarios import load_campaign_file
from core.scenario import Usage
from scoring.catalog_load import load_catalog
from scoring.tco import MissingPrices, estimate_site
from tests.conftest import REPO

CAMPAIGN = load_campaign_file(REPO / "scenarios" / "serverless.yaml")


def _functions(site: str, campaign=CAMPAIGN,
               catalog=None) -> tuple[dict[str, float], list[str]]:
    try:
        cost = estimate_site(campaign, site, catalog)
        missing: list[str] = []
    except MissingPrices as e:
        cost, missing = e.partial, e.missing
    return ({c.name.rsplit(" ", 1)[-1]: c.monthly_usd for c in cost.components
             if c.kind == "function"}, missing)


def test_lambda_by_hand():
    got, missing = _functions("lambda")
    assert missing == []
    assert got == pytest.approx({"requests": 0.80, "gb_second": 3.33334}, abs=1e-4)


def test_cloud_run_by_hand_with_the_100_ms_rounding():
    got, missing = _functions("cloud-run")
    assert missing == []
    assert got == pytest.approx({"requests": 1.20, "vcpu_second": 19.68, "gib_second": 1.60},
                                abs=1e-6)


def test_flex_consumption_by_hand():
    got, missing = _functions("functions")
    assert missing == []
    assert got == pytest.approx({"requests": 1.90, "gb_second": 28.60}, abs=1e-6)


def test_flex_execution_price_not_found_is_never_zero():
    catalog = copy.copy(load_catalog())
    catalog._platforms = [r for r in catalog._platforms if not (
        r.service == "azure_functions" and r.plan == "flex-on-demand" and r.item == "requests")]
    got, missing = _functions("functions", catalog=catalog)
    assert got == pytest.approx({"gb_second": 28.60}, abs=1e-6)
    assert "requests" not in got  # not a $0 line
    assert len(missing) == 1 and "price not found" in missing[0]
    assert "flex-on-demand requests" in missing[0]


def test_free_tier_off_prices_every_unit():
    # Lambda, no allowance: 5,000,000 x 0.0000002 = $1.00; 600,000 x 0.0000166667 = $10.00002
    usage = CAMPAIGN.usage.model_copy(update={"functions": CAMPAIGN.usage.functions.model_copy(
        update={"free_tier": False})})
    got, _ = _functions("lambda", CAMPAIGN.model_copy(update={"usage": usage}))
    assert got == pytest.approx({"requests": 1.00, "gb_second": 10.00002}, abs=1e-4)


def test_below_the_free_allowance_costs_nothing_but_is_shown():
    # 100,000 requests x 120 ms x 1 GB = 12,000 GB-s: under both Lambda allowances
    usage = Usage(functions={"requests_per_month": 100_000, "duration_ms": 120})
    got, _ = _functions("lambda", CAMPAIGN.model_copy(update={"usage": usage}))
    assert got == {"requests": 0.0, "gb_second": 0.0}


def test_a_site_without_serverless_has_no_function_lines():
    site = CAMPAIGN.sites[0].model_copy(update={"serverless": None, "name": "plain"})
    campaign = CAMPAIGN.model_copy(update={"sites": [site]})
    got, _ = _functions("plain", campaign)
    assert got == {}
