"""Rules that a plausible one-line bug used to slip past (issue 24, Build 1): TCO and
SLA: contiguous egress tiers, the multi-zone tier, credits and caveats.

How each test was checked against its planted mutation, and where its expected values
come from: tests/rules_bite_support.py.
"""

from __future__ import annotations

import pytest

from bench.scenarios import parse_campaign
from scoring.catalog import Catalog
from scoring.catalog_csv import CatalogError
from scoring.catalog_load import load_catalog
from scoring.sla import compute_tier, sla_risk
from scoring.tco import egress_components
from tests.test_sla import _campaign as _sla_campaign  # (site, revenue, instances, expected)

# -- TCO: egress tiers must be contiguous ---------------------------------------------------

def _azure_egress() -> list:
    return load_catalog().egress_tiers("azure", "eastus")


def _catalog(egress: list) -> Catalog:
    return Catalog(compute=[], commitments=[], egress=egress, managed_db=[], storage=[],
                   sla=[], compliance=[])


def test_egress_tiers_priced_cumulatively_and_a_gap_is_refused():
    tiers = _azure_egress()
    # shipped azure eastus tiers (scoring/data/pricing/egress.csv, starts as the Retail
    # Prices API lists them): 0-100 free, 100-10,335 at $0.087, 10,335-51,295 at $0.083.
    # 20,000 GB by hand: 10,235 x 0.087 = 890.445 + 9,665 x 0.083 = 802.195 -> $1,692.64
    comps = egress_components("azure", "eastus", 20000, _catalog(tiers))
    assert sum(c.monthly_usd for c in comps) == pytest.approx(1692.64)
    # the 100-10,335 tier missing: 10,235 GB would silently go unpriced
    gap = [t for t in tiers if t.tier_start_gb != 100]
    with pytest.raises(CatalogError, match="not contiguous at 100 GB"):
        egress_components("azure", "eastus", 20000, _catalog(gap))


# -- SLA: the multi-zone tier needs two zones AND two instances ------------------------------

def _site_campaign(zones: list[str], instances: int):
    return parse_campaign({"name": "t", "sites": [{
        "name": "s", "provider": "aws", "region": "us-east-1", "zones": zones,
        "instance_type": "c6i.xlarge"}], "usage": {"hours_per_month": 730,
                                                  "instances": instances},
        "sla": {"revenue_per_minute_usd": 1}})


@pytest.mark.parametrize(("zones", "instances", "tier", "availability"), [
    # the AWS Region-Level SLA (99.99 %) needs instances running in two or more AZs at
    # once; otherwise the Instance-Level SLA (99.5 %) applies (scoring/data/sla.csv)
    (["us-east-1a", "us-east-1b"], 2, "multi_zone", 99.99),
    (["us-east-1a", "us-east-1b"], 1, "single_instance", 99.5),  # one VM: in one AZ
    (["us-east-1a"], 2, "single_instance", 99.5),  # two VMs, both in one AZ
    (["us-east-1a"], 1, "single_instance", 99.5),
])
def test_sla_tier_varies_zones_and_instances_apart(zones, instances, tier, availability):
    campaign = _site_campaign(zones, instances)
    assert compute_tier(campaign.sites[0], instances) == tier
    assert sla_risk(campaign, "s").availability_pct == pytest.approx(availability)


# -- SLA: which bill a credit applies to, and what the report must say ----------------------

NOT_STATED = ("expected credit 0: credits are paid only below the SLA and "
              "sla.expected_availability_pct is not stated")
PRODUCT = "availability is the product of the services' SLAs (all must be up)"
NO_REVENUE = "sla.revenue_per_minute_usd is 0 in the scenario: money at risk is 0"


def test_sla_credit_covers_the_whole_compute_bill_and_caveats_are_exact():
    from scoring.tco import estimate_site

    site = {"provider": "gcp", "region": "us-central1", "zones": ["a", "b"],
            "instance_type": "c3-standard-4", "disk_gb": 200, "disk_type": "pd-ssd"}
    campaign = _sla_campaign(site, 10, expected=99.5)
    cost = estimate_site(campaign, campaign.sites[0])
    by_kind: dict[str, float] = {}
    for c in cost.components:
        by_kind[c.kind] = by_kind.get(c.kind, 0.0) + c.monthly_usd
    assert by_kind.get("storage", 0) > 0  # the disks are billed ...
    bill = sum(v for k, v in by_kind.items() if k in ("compute", "storage", "iops"))
    r = sla_risk(campaign, "s")
    (comp,) = r.components
    assert comp.monthly_bill_usd == pytest.approx(bill)  # ... and the credit covers them
    assert comp.expected_credit_usd == pytest.approx(0.10 * bill)  # 99.5 %: first tier
    assert (comp.service, comp.tier, comp.covered, comp.first_credit_pct) == (
        "compute", "multi_zone", True, 10.0)
    assert r.caveats == ["money at risk follows the expected availability 99.5%, below "
                         "the 99.99% SLA"] and r.uncovered == []
    # expected 99.5 % (below the SLA): 0.005 x 43,800 = 219 min x $10 = $2,190 at risk,
    # minus the credit
    assert r.money_at_risk_month_usd == pytest.approx(2190.0)
    assert r.net_risk_month_usd == pytest.approx(max(0.0, 2190.0 - 0.10 * bill))
    r = sla_risk(_sla_campaign(site, 10), "s")
    assert r.caveats == [NOT_STATED] and r.expected_credit_month_usd == 0
    # nothing expected: the SLA itself, 99.99 % -> 4.38 min x $10 = $43.80
    assert r.money_at_risk_month_usd == pytest.approx(43.8)


def test_sla_caveats_for_a_composite_site_without_revenue_and_without_sla():
    aws = {"provider": "aws", "region": "us-east-1", "zones": ["a", "b"],
           "instance_type": "c6i.xlarge",
           "database": {"instance": "db.t3.large", "ha": False, "storage_gb": 100}}
    r = sla_risk(_sla_campaign(aws, 0), "s")
    assert r.caveats == [PRODUCT, NO_REVENUE, NOT_STATED]
    assert r.money_at_risk_month_usd == 0 and r.net_risk_month_usd == 0
    assert r.availability_pct == pytest.approx(99.99 * 0.995)
    assert r.source == "; ".join(c.source for c in r.components) and ";" in r.source
    assert [c.service for c in r.components] == ["compute", "managed_postgresql"]
    gcp = {"provider": "gcp", "region": "us-central1", "zones": ["a", "b"],
           "instance_type": "c3-standard-4",
           "database": {"instance": "db-custom-2-7680", "ha": False}}
    r = sla_risk(_sla_campaign(gcp, 5, expected=99.0), "s")
    (db,) = [c for c in r.components if c.service == "managed_postgresql"]
    assert not db.covered and db.first_credit_pct == 0 and db.expected_credit_usd == 0
    assert r.caveats == [f"managed_postgresql ({db.applies_when}) has no SLA: the site as a "
                         "whole has no SLA (scored worst)"]
    assert (r.availability_pct, r.downtime_min_month, r.downtime_min_year) == (None,) * 3
    # no SLA is the worst case, never $0 at risk
    assert r.money_at_risk_month_usd is None and r.net_risk_month_usd is None
    assert r.expected_credit_month_usd > 0  # the compute SLA still pays below 99.99 %
    assert r.source == "; ".join(c.source for c in r.components)
    assert sla_risk(_sla_campaign(gcp, 5), parse_campaign({
        "name": "l", "sites": [{"name": "x", "provider": "local", "cpus": 1,
                                "hourly_usd": 0.01}]}).sites[0]) is None
