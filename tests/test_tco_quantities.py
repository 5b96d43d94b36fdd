"""Prices and quantities as billed (issue 18, Build 5): each line recomputed by hand from the
price rows' values in scoring/data/pricing (services.csv, support_plans.csv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.scenarios import load_campaign_file, parse_campaign
from core.errors import PriceNotFoundError
from scoring.support import SupportPlanRow, charge
from scoring.tco import MissingPrices, estimate_site

ROOT = Path(__file__).resolve().parents[1]
AWS = {"provider": "aws", "region": "us-east-1", "zones": ["us-east-1a", "us-east-1b"],
       "instance_type": "c6i.xlarge"}
AZ = {"provider": "azure", "region": "eastus", "zones": ["1", "2"],
      "instance_type": "Standard_F4s_v2"}
GCP = {"provider": "gcp", "region": "us-central1", "zones": ["us-central1-a", "us-central1-b"],
       "instance_type": "c2d-highcpu-4"}


def lines(site: dict, **usage) -> dict[str, object]:
    c = parse_campaign({"name": "t", "sites": [{"name": "s", **site}],
                        "usage": {"hours_per_month": 730, "instances": 2, **usage}})
    return {x.name: x for x in estimate_site(c, "s").components}


def test_alb_lcus_follow_data_processed():
    # 2,000 GB over 730 h = 2.739726 GB/h; 1 LCU = 1 GB/h (EC2 targets) -> 2.739726 LCU;
    # 2.739726 LCU x 730 h = 2,000 LCU-hours x $0.008 = $16.00 (not 1 LCU: 730 x 0.008 = 5.84)
    c = lines(AWS, load_balancer=True, egress_gb_per_month=2000)["load balancer (ALB LCU-hours)"]
    assert c.quantity == pytest.approx(2000.0)
    assert c.monthly_usd == pytest.approx(16.00)
    assert "2000 GB / 730 h / 1 GB/h = 2.7397" in c.note


def test_alb_lcus_take_the_largest_dimension():
    # 100 GB -> 0.137 LCU; 50 new connections/s / 25 = 2 LCU; 4,500 active / 3,000 = 1.5 LCU:
    # 2 LCU x 730 h x $0.008 = $11.68
    c = lines(AWS, load_balancer=True, lb_data_gb_per_month=100, lb_new_connections_per_s=50,
              lb_active_connections=4500)["load balancer (ALB LCU-hours)"]
    assert c.monthly_usd == pytest.approx(11.68)
    assert "(new connections)" in c.note


def test_lb_first_rules_price_and_the_lbs_own_ipv4():
    az = lines(AZ, load_balancer=True, egress_gb_per_month=2000)
    # Azure: first 5 rules $0.025/h x 730 = $18.25 (not the additional-rule $0.01: $7.30);
    # one frontend IPv4 x 730 h x $0.005 = $3.65
    assert az["load balancer (first 5 rules)"].monthly_usd == pytest.approx(18.25)
    assert az["public IPv4 of the load balancer x1"].monthly_usd == pytest.approx(3.65)
    gcp = lines(GCP, load_balancer=True, egress_gb_per_month=2000)
    # GCP: first 5 forwarding rules $0.025/h x 730 = $18.25; 2,000 GB x $0.008 = $16.00;
    # the forwarding rule's address: no charge (a $0 line with its source, not a missing one)
    assert gcp["load balancer (first 5 forwarding rules)"].monthly_usd == pytest.approx(18.25)
    assert gcp["load balancer (data processed)"].monthly_usd == pytest.approx(16.0)
    ip = gcp["public IPv4 of the load balancer x1"]
    assert ip.monthly_usd == 0 and "network-pricing" in ip.source
    aws = lines(AWS, load_balancer=True)
    # AWS: the ALB holds one public IPv4 per zone: 2 x 730 h x $0.005 = $7.30
    assert aws["public IPv4 of the load balancer x2"].monthly_usd == pytest.approx(7.30)


def test_gcp_cloud_nat_per_vm_hour():
    # 2 VMs x 730 h x $0.0014 = $2.044 (the old per-gateway line was 730 x 0.0448 = $32.70)
    nat = lines(GCP, nat_gateway=True)["Cloud NAT x2 VM(s)"]
    assert nat.monthly_usd == pytest.approx(2.044)
    # above 32 VMs the gateway's flat hourly price applies: 730 x $0.0448 = $32.704
    big = lines(GCP, nat_gateway=True, instances=40)["Cloud NAT (more than 32 VMs: flat hourly)"]
    assert big.monthly_usd == pytest.approx(32.704)


def test_support_minimums_and_bands():
    # AWS Business on a $767.47 bill: 10% = $76.75 < $100 minimum -> $100
    aws = lines(AWS, support={"aws": "business"})
    base = sum(c.monthly_usd for n, c in aws.items() if not n.startswith("support"))
    # the bill before support: compute 2 x 730 h x $0.17 = $248.20
    assert base == pytest.approx(248.20)
    assert aws["support plan aws business"].monthly_usd == 100.0
    assert lines(AZ, support={"azure": "standard"})["support plan azure standard"].monthly_usd \
        == 100.0  # flat
    # GCP Standard: greater of $29 or 3%: compute 2 x 730 x $0.149924 = $218.889 -> 3% = $6.57
    assert lines(GCP, support={"gcp": "standard"})["support plan gcp standard"].monthly_usd \
        == 29.0
    # the bands, as the AWS page's worked example: $85,000 -> 10% x 10,000 + 7% x 70,000 +
    # 5% x 5,000 = 1,000 + 4,900 + 250 = $6,150
    row = SupportPlanRow(provider="aws", plan="business", minimum_usd_per_month=100,
                         bands="0:10;10000:7;80000:5;250000:3", as_published="x", source="x",
                         confidence="x")
    assert charge(row, 85_000)[0] == pytest.approx(6150.0)


def test_unknown_support_plan_is_a_named_missing_price():
    with pytest.raises(MissingPrices) as e:
        lines(AWS, support={"aws": "platinum"})
    assert "support plan 'platinum'" in str(e.value) and "business" in str(e.value)
    assert isinstance(e.value, PriceNotFoundError)


def test_the_decision_scenarios_azure_database_is_priced_at_eastus():
    c = load_campaign_file(ROOT / "scenarios" / "poc-web-db.yaml")
    db = {x.name: x for x in estimate_site(c, "azure").components}
    line = db["managed PostgreSQL GP_Standard_D2ds_v5 (HA)"]
    # eastus $0.178/h x 2 (zone-redundant HA bills the standby) = $0.356/h x 730 = $259.88
    # (the westus price was 2 x $0.203 = $0.406/h -> $296.38)
    assert line.unit_price_usd == pytest.approx(0.356)
    assert line.monthly_usd == pytest.approx(259.88)
    assert "EASTUS" in c.site("azure").price_override.reason
