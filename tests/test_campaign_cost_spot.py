"""The campaign's own cost for spot sites: the spot rate, labelled, or a clear error.

Hand-computed from the shipped catalog rows (scoring/data/pricing/compute.csv):
aws us-east-1 c6i.xlarge on-demand 0.17, spot 0.0674; c6i.large on-demand 0.085, spot
0.0262; azure eastus Standard_F4s_v2 on-demand 0.169, no spot price.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bakeoff.campaign_cost import campaign_costs, check_budget, site_campaign_cost
from bakeoff.cli import app
from bench.scenarios import parse_campaign
from core.errors import BakeoffError, PriceNotFoundError

AWS = {"name": "aws", "provider": "aws", "region": "us-east-1",
       "zones": ["us-east-1a", "us-east-1b"], "instance_type": "c6i.xlarge",
       "loadgen": 1, "loadgen_instance_type": "c6i.large"}
AZURE = {"name": "az", "provider": "azure", "region": "eastus", "zones": ["1", "2"],
         "instance_type": "Standard_F4s_v2", "loadgen": 1}
WORK = [{"name": "sysbench-cpu", "params": {"time_s": 10}}]


def campaign(*sites: dict, **top):
    return parse_campaign({"name": "spot", "repetitions": 1, "sites": list(sites),
                           "workloads": WORK, **top})


def test_spot_site_priced_at_the_spot_rate_and_labelled():
    od = site_campaign_cost(c := campaign(AWS), c.sites[0])
    spot = site_campaign_cost(c := campaign({**AWS, "spot": True}), c.sites[0])
    # on-demand: 2 x 0.17 + 0.085 = 0.425 $/h; spot: 2 x 0.0674 + 0.0262 = 0.161 $/h
    assert od.hourly_usd == pytest.approx(0.425)
    assert spot.hourly_usd == pytest.approx(0.161)
    assert spot.hours == od.hours  # same run, another market
    # hours = 0.25 overhead + (10 s + 30 s) / 3600 = 0.26111 h; x 0.161 = 0.042 -> 0.04
    assert spot.usd == pytest.approx(round(0.2611111 * 0.161, 2))
    for what, _, source in spot.parts:  # load generators follow the site's market
        assert "spot rate" in what and "may be interrupted; price varies" in what
        assert "spot_usd_per_hour" in source and "skypilot-catalog" in source
    assert all("spot" not in what for what, _, _ in od.parts)


def test_missing_spot_price_is_an_error_naming_type_region_and_fixes():
    c = campaign({**AZURE, "spot": True})
    with pytest.raises(PriceNotFoundError) as e:
        site_campaign_cost(c, c.sites[0])
    msg = str(e.value)
    for part in ("Standard_F4s_v2", "azure eastus", "price_override.terms.spot",
                 "spot: false", "on-demand"):
        assert part in msg
    # never a silent on-demand price or $0: the site has no cost, only the message
    (cost,) = campaign_costs(c).values()
    assert isinstance(cost, str) and "no spot price" in cost
    with pytest.raises(BakeoffError, match="cannot be priced"):
        check_budget(campaign({**AZURE, "spot": True}, budget_usd=10))


def test_quoted_spot_price_is_used_and_a_different_loadgen_type_still_needs_one():
    quote = {"terms": {"spot": 0.05, "on-demand": 0.169}, "reason": "spot quote 2026-11"}
    c = campaign({**AZURE, "spot": True, "price_override": quote})
    cost = site_campaign_cost(c, c.sites[0])
    # 2 x 0.05 + 1 x 0.05 (same type) = 0.15 $/h
    assert cost.hourly_usd == pytest.approx(0.15)
    assert all("override" in w and "may be interrupted" in w for w, _, _ in cost.parts)
    assert all(s == "price_override: spot quote 2026-11" for _, _, s in cost.parts)
    c = campaign({**AZURE, "spot": True, "price_override": quote,
                  "loadgen_instance_type": "Standard_F2s_v2"})
    with pytest.raises(PriceNotFoundError, match="Standard_F2s_v2 in azure eastus"):
        site_campaign_cost(c, c.sites[0])


def test_plan_shows_the_missing_spot_price_without_a_traceback(write_scenario):
    path = write_scenario(json.dumps({
        "name": "spot-plan", "budget_usd": 5, "repetitions": 1, "workloads": WORK,
        "sites": [{**AZURE, "spot": True}, {**AWS, "name": "aws2", "spot": True}]}))
    env = {"BAKEOFF_OWNER": "t", "PATH": "/usr/bin:/bin", "COLUMNS": "250"}
    runner = CliRunner()
    res = runner.invoke(app, ["plan", str(path)], env=env)
    assert res.exit_code == 0 and res.exception is None, res.output
    assert "Traceback" not in res.output
    out = " ".join(res.output.split())
    assert "no spot price for Standard_F4s_v2 in azure eastus" in out
    assert "1 site(s) not priced" in out
    assert "c6i.xlarge x2 (server, client), spot rate" in out  # the priced spot site
    res = runner.invoke(app, ["plan", str(path), "--json"], env=env)
    sites = {s["site"]: s for s in json.loads(res.output)["sites"]}
    assert sites["az"]["estimated_campaign_usd"] is None
    assert "no spot price" in sites["az"]["cost_error"]
    assert sites["aws2"]["estimated_campaign_usd"] == pytest.approx(
        round((0.25 + 40 / 3600) * 0.161, 2))
