"""SLA arithmetic: allowed downtime, money at risk, credits."""

from __future__ import annotations

import pytest

from bench.scenarios import parse_campaign
from scoring.catalog import load_catalog
from scoring.sla import allowed_downtime, credit_pct, sla_risk


def test_allowed_downtime():
    # 99.99%: 0.0001 x 43,200 min = 4.32 min per 30-day month; x 525,600 = 52.56 min/year
    month, year = allowed_downtime(99.99)
    assert month == pytest.approx(4.32)
    assert year == pytest.approx(52.56)
    # 99.9%: 43.2 min/month, 525.6 min/year; 99.5%: 216 min/month
    assert allowed_downtime(99.9) == pytest.approx((43.2, 525.6))
    assert allowed_downtime(99.5)[0] == pytest.approx(216.0)


def test_credit_tiers():
    row = load_catalog().sla("aws", "compute", "multi_zone")  # 99.99: 10% / 30% / 100%
    assert credit_pct(row, 99.995) == 0
    assert credit_pct(row, 99.99) == 0        # meeting the SLA exactly pays nothing
    assert credit_pct(row, 99.5) == 10
    assert credit_pct(row, 99.0) == 10
    assert credit_pct(row, 98.0) == 30
    assert credit_pct(row, 90.0) == 100


def _campaign(site: dict, revenue: float, instances: int = 2):
    return parse_campaign({"name": "t", "sites": [{"name": "s", **site}],
                           "usage": {"hours_per_month": 730, "instances": instances},
                           "sla": {"revenue_per_minute_usd": revenue}})


def test_multi_zone_compute_risk_and_credit():
    site = {"provider": "gcp", "region": "us-central1", "zones": ["a", "b"],
            "instance_type": "c3-standard-4"}
    r = sla_risk(_campaign(site, 50), "s")
    # 99.99% -> 4.32 min/month x $50 = $216 at risk
    assert r.availability_pct == pytest.approx(99.99)
    assert r.downtime_min_month == pytest.approx(4.32)
    assert r.downtime_min_year == pytest.approx(52.56)
    assert r.money_at_risk_month_usd == pytest.approx(216.0)
    # credit: first tier 10% x compute bill (2 x 730 h x 0.201608 = 294.34768) = 29.434768
    assert r.expected_credit_month_usd == pytest.approx(29.434768)
    assert r.net_risk_month_usd == pytest.approx(216.0 - 29.434768)
    assert "cloud.google.com/compute/sla" in r.source


def test_single_instance_tier():
    site = {"provider": "gcp", "region": "us-central1", "zones": ["a"],
            "instance_type": "c3-standard-4"}
    r = sla_risk(_campaign(site, 10, instances=1), "s")
    # 99.9% -> 43.2 min/month x $10 = $432
    assert r.availability_pct == pytest.approx(99.9)
    assert r.money_at_risk_month_usd == pytest.approx(432.0)


def test_compute_and_database_compose():
    site = {"provider": "aws", "region": "us-east-1", "zones": ["a", "b"],
            "instance_type": "c6i.xlarge",
            "database": {"instance": "db.t3.large", "ha": False, "storage_gb": 100}}
    r = sla_risk(_campaign(site, 10), "s")
    # A = 0.9999 (EC2 multi-AZ) x 0.995 (RDS Single-AZ) = 0.9949005
    # downtime = 0.0050995 x 43,200 = 220.2984 min/month; x $10 = 2202.984
    assert r.availability_pct == pytest.approx(99.49005)
    assert r.downtime_min_month == pytest.approx(220.2984)
    assert r.money_at_risk_month_usd == pytest.approx(2202.984)
    # credits: 10% x compute 248.2 (1460 h x 0.17) = 24.82
    #        + 10% x database 117.35 (105.85 + 11.5) = 11.735  -> 36.555
    assert r.expected_credit_month_usd == pytest.approx(36.555)
    assert r.net_risk_month_usd == pytest.approx(2202.984 - 36.555)
    assert len(r.components) == 2


def test_uncovered_database_is_listed_not_multiplied():
    site = {"provider": "gcp", "region": "us-central1", "zones": ["a", "b"],
            "instance_type": "c3-standard-4",
            "database": {"instance": "db-custom-2-7680", "ha": False}}
    r = sla_risk(_campaign(site, 1), "s")
    assert r.uncovered == ["managed_postgresql/single"]
    assert r.availability_pct == pytest.approx(99.99)
    assert any("has no SLA" in c for c in r.caveats)


def test_local_site_has_no_sla():
    c = parse_campaign({"name": "t", "sites": [{"name": "box", "provider": "local", "cpus": 1,
                                                "hourly_usd": 0.04}]})
    assert sla_risk(c, "box") is None
