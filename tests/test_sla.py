"""SLA arithmetic: allowed downtime, money at risk, credits."""

from __future__ import annotations

import pytest

from bench.scenarios import parse_campaign
from scoring.catalog_load import load_catalog
from scoring.sla import allowed_downtime, credit_pct, sla_risk


def test_allowed_downtime():
    # 99.99%: 0.0001 x 43,800 min = 4.38 min per 730-hour month; x 525,600 = 52.56 min/year
    month, year = allowed_downtime(99.99)
    assert month == pytest.approx(4.38)
    assert year == pytest.approx(52.56)
    # 99.9%: 43.8 min/month, 525.6 min/year; 12 x 43.8 = 525.6: month and year agree
    assert allowed_downtime(99.9) == pytest.approx((43.8, 525.6))
    assert allowed_downtime(99.5)[0] == pytest.approx(219.0)  # 0.005 x 43,800


def test_credit_tiers():
    row = load_catalog().sla("aws", "compute", "multi_zone")  # 99.99: 10% / 30% / 100%
    assert credit_pct(row, 99.995) == 0
    assert credit_pct(row, 99.99) == 0        # meeting the SLA exactly pays nothing
    assert credit_pct(row, 99.5) == 10
    assert credit_pct(row, 99.0) == 10
    assert credit_pct(row, 98.0) == 30
    assert credit_pct(row, 90.0) == 100


def _campaign(site: dict, revenue: float, instances: int = 2, expected: float | None = None):
    sla = {"revenue_per_minute_usd": revenue}
    if expected is not None:
        sla["expected_availability_pct"] = expected
    return parse_campaign({"name": "t", "sites": [{"name": "s", **site}],
                           "usage": {"hours_per_month": 730, "instances": instances},
                           "sla": sla})


def test_multi_zone_compute_risk_and_credit():
    site = {"provider": "gcp", "region": "us-central1", "zones": ["a", "b"],
            "instance_type": "c3-standard-4"}
    r = sla_risk(_campaign(site, 50), "s")
    # 99.99% -> 4.38 min/month x $50 = $219 at risk; no expected availability stated -> the
    # SLA is assumed met and no credit is expected
    assert r.availability_pct == pytest.approx(99.99)
    assert r.downtime_min_month == pytest.approx(4.38)
    assert r.downtime_min_year == pytest.approx(52.56)
    assert r.money_at_risk_month_usd == pytest.approx(219.0)
    assert r.expected_credit_month_usd == 0 and r.net_risk_month_usd == pytest.approx(219.0)
    assert "cloud.google.com/compute/sla" in r.source
    # exactly at the SLA: still no credit
    assert sla_risk(_campaign(site, 50, expected=99.99), "s").expected_credit_month_usd == 0
    # below it (99.5%, first tier): 10% x compute bill (2 x 730 h x 0.201608 = 294.34768);
    # money at risk follows min(99.99, 99.5) = 99.5: 0.005 x 43,800 = 219 min x $50 = 10,950
    r = sla_risk(_campaign(site, 50, expected=99.5), "s")
    assert r.expected_credit_month_usd == pytest.approx(29.434768)
    assert r.basis == "expected availability" and r.basis_pct == 99.5
    assert r.downtime_min_month == pytest.approx(219.0)
    assert r.sla_downtime_min_month == pytest.approx(4.38)
    assert r.money_at_risk_month_usd == pytest.approx(10950.0)
    assert r.net_risk_month_usd == pytest.approx(10950.0 - 29.434768)
    # below 95%: the 25% tier of the GCP compute SLA row
    r = sla_risk(_campaign(site, 50, expected=97.0), "s")
    assert r.expected_credit_month_usd == pytest.approx(0.25 * 294.34768)


def test_single_instance_tier():
    site = {"provider": "gcp", "region": "us-central1", "zones": ["a"],
            "instance_type": "c3-standard-4"}
    r = sla_risk(_campaign(site, 10, instances=1), "s")
    # 99.9% -> 43.8 min/month x $10 = $438
    assert r.availability_pct == pytest.approx(99.9)
    assert r.money_at_risk_month_usd == pytest.approx(438.0)


def test_compute_and_database_compose():
    site = {"provider": "aws", "region": "us-east-1", "zones": ["a", "b"],
            "instance_type": "c6i.xlarge",
            "database": {"instance": "db.t3.large", "ha": False, "storage_gb": 100}}
    r = sla_risk(_campaign(site, 10, expected=99.4), "s")
    # A = 0.9999 (EC2 multi-AZ) x 0.995 (RDS Single-AZ) = 0.9949005; the expected 99.4 % is
    # lower, so the risk uses it: 0.006 x 43,800 = 262.8 min/month; x $10 = 2628
    assert r.availability_pct == pytest.approx(99.49005)
    assert r.sla_downtime_min_month == pytest.approx(223.3581)  # 0.0050995 x 43,800
    assert r.downtime_min_month == pytest.approx(262.8)
    assert r.money_at_risk_month_usd == pytest.approx(2628.0)
    # at an expected 99.4% both services are below their SLA (first tier, 10%):
    # 10% x compute 248.2 (1460 h x 0.17) = 24.82 + 10% x database 117.35 = 11.735 -> 36.555
    assert r.expected_credit_month_usd == pytest.approx(36.555)
    assert r.net_risk_month_usd == pytest.approx(2628.0 - 36.555)
    assert len(r.components) == 2


def test_zonal_database_makes_the_site_no_sla():
    site = {"provider": "gcp", "region": "us-central1", "zones": ["a", "b"],
            "instance_type": "c3-standard-4",
            "database": {"instance": "db-custom-2-7680", "ha": False}}
    r = sla_risk(_campaign(site, 1), "s")
    assert r.uncovered == ["managed_postgresql/single"]
    # never dropped from the product: the composite has no SLA (scored worst downstream)
    assert r.availability_pct is None and r.downtime_min_month is None
    # "no SLA" is the worst, never a 0.0 risk that would read as "no risk"
    assert r.money_at_risk_month_usd is None and r.net_risk_month_usd is None
    assert r.basis == "no SLA"
    assert any("has no SLA" in c for c in r.caveats)
    ha = dict(site, database={"instance": "db-custom-2-7680", "ha": True})
    assert sla_risk(_campaign(ha, 1), "s").availability_pct == pytest.approx(99.99 * 0.9995)


def test_local_site_has_no_sla():
    c = parse_campaign({"name": "t", "sites": [{"name": "box", "provider": "local", "cpus": 1,
                                                "hourly_usd": 0.04}]})
    assert sla_risk(c, "box") is None


def test_the_load_balancer_is_part_of_the_composite():
    # the case: poc-web-db's AWS site, LB on, two AZs, RDS Multi-AZ, $50/min,
    # expected availability 99.5 %
    site = {"provider": "aws", "region": "us-east-1", "zones": ["us-east-1a", "us-east-1b"],
            "instance_type": "c6i.xlarge",
            "database": {"instance": "db.m6i.large", "ha": True, "storage_gb": 100},
            "price_override": {"db_usd_per_hour": 0.36, "db_storage_usd_per_gb_month": 0.23,
                               "reason": "test"}}
    c = parse_campaign({"name": "t", "sites": [{"name": "s", **site}],
                        "usage": {"instances": 2, "load_balancer": True},
                        "sla": {"revenue_per_minute_usd": 50,
                                "expected_availability_pct": 99.5}})
    r = sla_risk(c, "s")
    assert [(x.service, x.tier) for x in r.components] == [
        ("compute", "multi_zone"), ("load_balancer", "multi_zone"), ("managed_postgresql", "ha")]
    # by hand: 0.9999 (EC2 multi-AZ) x 0.9999 (ELB multi-AZ) = 0.99980001; x 0.9995 (RDS
    # Multi-AZ) = 0.99980001 - 0.000499900005 = 0.999300109995 -> 99.9300109995 %
    assert r.availability_pct == pytest.approx(99.9300109995)
    # risk at min(99.93..., 99.5) = 99.5: (1 - 0.995) x 43,800 = 219 min x $50 = $10,950
    assert r.downtime_min_month == pytest.approx(219.0)
    assert r.money_at_risk_month_usd == pytest.approx(10950.0)
    no_lb = parse_campaign({"name": "t", "sites": [{"name": "s", **site}],
                            "usage": {"instances": 2}, "sla": {"revenue_per_minute_usd": 50}})
    r0 = sla_risk(no_lb, "s")
    assert [x.service for x in r0.components] == ["compute", "managed_postgresql"]
    # 0.9999 x 0.9995 = 0.99940005: (1 - 0.99940005) x 43,800 = 26.27781 min -> $1,313.89
    assert r0.money_at_risk_month_usd == pytest.approx(26.27781 * 50)
