"""TCO parts beyond VM hours, hand-computed: load balancer, public IPv4, NAT, cross-AZ, DB backup,
disk tiers, IOPS per volume, GCP sustained use, support, per-term overrides; compliance levels
and equivalents. The arithmetic is written next to each expected number."""

from __future__ import annotations

import pytest

from bench.scenarios import parse_campaign
from core.errors import PriceNotFoundError
from core.scenario import SizeSpec
from scoring.catalog_load import load_catalog
from scoring.compliance import check
from scoring.cost_inputs import gather_cost_inputs
from scoring.equivalents import db_equivalents, memory_matches, resolve_size
from scoring.tco import MissingPrices, estimate_site
from scoring.tco_parts import sud_multiplier

AWS = {"provider": "aws", "region": "us-east-1", "zones": ["us-east-1a", "us-east-1b"],
       "instance_type": "c6i.xlarge"}
AZ = {"provider": "azure", "region": "eastus", "zones": ["1", "2"],
      "instance_type": "Standard_F4s_v2"}
GCP = {"provider": "gcp", "region": "us-central1", "zones": ["us-central1-a"],
       "instance_type": "c2d-highcpu-4"}


def cost(site: dict, term: str | None = None, requires: list | None = None, **usage):
    c = parse_campaign({"name": "t", "sites": [{"name": "s", **site}],
                        "usage": {"hours_per_month": 730, "instances": 1, **usage},
                        "requires": requires or []})
    return estimate_site(c, "s", term=term)


def parts(site: dict, **usage) -> dict[str, float]:
    return {c.name: c.monthly_usd for c in cost(site, **usage).components}


def test_load_balancer_per_provider():
    p = parts(AWS, load_balancer=True, lb_capacity_units=2)
    # ALB 730 h x 0.0225 = 16.425; LCU stated: 730 h x 2 x 0.008 = 11.68
    assert p["load balancer (ALB hours)"] == pytest.approx(16.425)
    assert p["load balancer (ALB LCU-hours)"] == pytest.approx(11.68)
    p = parts(AZ, load_balancer=True, lb_rules=7, lb_data_gb_per_month=500)
    # Azure: the first 5 rules 730 h x 0.025 = 18.25; 2 more x 730 h x 0.01 = 14.6;
    # 500 GB x 0.005 = 2.5
    assert p["load balancer (first 5 rules)"] == pytest.approx(18.25)
    assert p["load balancer (rules beyond 5)"] == pytest.approx(14.6)
    assert p["load balancer (data processed)"] == pytest.approx(2.5)
    p = parts(GCP, load_balancer=True, egress_gb_per_month=300)
    # GCP: first 5 forwarding rules 730 x 0.025 = 18.25; data defaults to egress:
    # 300 x 0.008 = 2.4; no rule beyond 5
    assert p["load balancer (first 5 forwarding rules)"] == pytest.approx(18.25)
    assert p["load balancer (data processed)"] == pytest.approx(2.4)
    assert "load balancer (forwarding rules beyond 5)" not in p


def test_public_ipv4_and_nat():
    p = parts(AWS, public_ipv4=3, nat_gateway=True, nat_data_gb_per_month=100)
    # 3 x 730 x 0.005 = 10.95; NAT 730 x 0.045 = 32.85; 100 GB x 0.045 = 4.5
    assert p["public IPv4 x3"] == pytest.approx(10.95)
    assert p["NAT gateway"] == pytest.approx(32.85)
    assert p["NAT data processed"] == pytest.approx(4.5)
    # GCP Cloud NAT per VM using it: 1 VM x 730 h x 0.0014 = 1.022 (not the gateway's 0.0448)
    assert parts(GCP, nat_gateway=True)["Cloud NAT x1 VM(s)"] == pytest.approx(1.022)


def test_every_missing_price_in_one_pass_with_partial_total():
    site = dict(AZ, database={"instance": "GP_Standard_D4ds_v5", "ha": True})
    with pytest.raises(MissingPrices) as e:
        cost(site, nat_gateway=True)
    assert len(e.value.missing) == 2  # the database and the NAT gateway, both named
    assert any("GP_Standard_D4ds_v5" in m for m in e.value.missing)
    assert any("nat_hour" in m for m in e.value.missing)
    # what is priced is still totalled: compute 730 x 0.169 = 123.37
    assert e.value.partial.monthly_usd == pytest.approx(123.37)


def test_cross_az_traffic_is_counted_per_provider_rule():
    db = {"instance": "db.t3.large", "ha": False, "storage_gb": 100}
    # AWS bills both sides of a cross-AZ transfer: 100 GB -> 200 x 0.01 = 2
    assert parts(dict(AWS, database=db), cross_az_gb_per_month=100)[
        "cross-AZ traffic app <-> DB primary"] == pytest.approx(2.0)
    gdb = {"instance": "db-custom-2-8192", "ha": True, "storage_gb": 10}
    # GCP inter-zone: 100 x 0.01 = 1 (secondary source, marked)
    c = cost(dict(GCP, database=gdb), cross_az_gb_per_month=100)
    (xaz,) = [x for x in c.components if x.name.startswith("cross-AZ")]
    assert xaz.monthly_usd == pytest.approx(1.0) and "secondary" in xaz.confidence
    # no database: nothing crosses to a primary
    assert not any(n.startswith("cross-AZ") for n in parts(GCP, cross_az_gb_per_month=100))


def test_db_backup_beyond_free_allowance():
    db = {"instance": "db.t3.large", "ha": False, "storage_gb": 100}
    # 80 GB of backups <= 100 GB provisioned: free (an explicit 0 line)
    assert parts(dict(AWS, database=db), db_backup_gb=80)[
        "DB backup storage beyond free"] == 0
    # 250 GB: (250 - 100) x 0.095 = 14.25
    assert parts(dict(AWS, database=db), db_backup_gb=250)[
        "DB backup storage beyond free"] == pytest.approx(14.25)
    gdb = {"instance": "db-custom-2-8192", "ha": True, "storage_gb": 100}
    # Cloud SQL: no free allowance recorded: 250 x 0.08 = 20
    assert parts(dict(GCP, database=gdb), db_backup_gb=250)[
        "DB backup storage beyond free"] == pytest.approx(20.0)


def test_azure_premium_disks_are_billed_per_tier_per_disk():
    c = cost(dict(AZ, disk_gb=100), instances=2)
    (disk,) = [x for x in c.components if x.kind == "storage"]
    # 100 GB rounds up to P10 (128 GB): 2 disks x 19.71 = 39.42, not 200 GB x a GB rate
    assert (disk.quantity, disk.unit_price_usd) == (2, 19.71)
    assert disk.monthly_usd == pytest.approx(39.42) and "P10" in disk.name
    # 20 GB -> P4 (32 GB): 5.28
    assert parts(dict(AZ, disk_gb=20))["disk premium-ssd 20 GB x1 as P4"] == 5.28
    # 200 GB needs P15, which the snapshot lacks: named, not guessed
    with pytest.raises(PriceNotFoundError, match="no premium-ssd price for tier P15"):
        cost(dict(AZ, disk_gb=200))
    # 100 GB asked for 3,000 IOPS: P10 gives 500, P15 1,100, P20 2,300, P30 5,000 -> the
    # disk is created at 1,024 GiB (core/disk_rule.py) and billed as P30: 135.17
    p30 = parts(dict(AZ, disk_gb=100, disk_iops=3000))["disk premium-ssd 100 GB x1 as P30"]
    assert p30 == 135.17
    # Premium_ZRS is never priced at LRS rates: no ZRS tier rows -> a named missing price
    with pytest.raises(PriceNotFoundError, match="no premium-ssd-zrs disk tier prices"):
        cost(dict(AZ, disk_gb=100, disk_type="Premium_ZRS"))


def test_gp3_free_iops_count_per_volume_and_pd_ssd_grows_for_iops():
    c = cost(dict(AWS, disk_gb=100, disk_iops=4000), instances=2)
    (iops,) = [x for x in c.components if x.kind == "iops"]
    # each of 2 volumes: 4000 - 3000 free = 1000 -> 2000 IOPS-month x 0.005 = 10
    # (counting the free 3,000 once for both would give 5000 x 0.005 = 25)
    assert iops.quantity == 2000 and iops.monthly_usd == pytest.approx(10.0)
    # pd-ssd: 6,000 IOPS baseline + 30 per GiB: 100 GiB give 9,000, so 6,000 asked needs no
    # more size: 2 x 100 x 0.17 = 34 (a zero baseline would raise it to 200 GiB: 68)
    c = cost(dict(GCP, disk_gb=100, disk_iops=6000, disk_type="pd-ssd"), instances=2)
    (disk,) = [x for x in c.components if x.kind == "storage"]
    assert disk.monthly_usd == pytest.approx(34.0)
    # 12,000 IOPS: (12000 - 6000) / 30 = 200 GiB: 2 x 200 x 0.17 = 68
    c = cost(dict(GCP, disk_gb=100, disk_iops=12000, disk_type="pd-ssd"), instances=2)
    (disk,) = [x for x in c.components if x.kind == "storage"]
    assert disk.monthly_usd == pytest.approx(68.0)
    assert "size raised from 100 to 200 GiB" in disk.note
    # the default GCP disk is pd-balanced, as provisioned: 3000 + 6 per GB -> 500 GB x 0.1
    c = cost(dict(GCP, disk_gb=100, disk_iops=6000))
    (disk,) = [x for x in c.components if x.kind == "storage"]
    assert disk.name.startswith("disk pd-balanced") and disk.monthly_usd == pytest.approx(50.0)


def test_gcp_sustained_use_discount():
    # N2 bands: 100 %, 86.78 %, 73.3 %, 60 % per quarter of the month
    assert sud_multiplier("n2-standard-4", 730) == pytest.approx(
        (1 + 0.8678 + 0.733 + 0.6) / 4)                          # 0.80020: ~20 % off
    assert sud_multiplier("n2-standard-4", 365) == pytest.approx((1 + 0.8678) / 2)
    assert sud_multiplier("n2-standard-4", 100) == 1.0         # under a quarter: no discount
    assert sud_multiplier("c2d-highcpu-4", 730) is None        # C2D, C3, N4...: not eligible
    site = dict(GCP, instance_type="n2-standard-4")
    p = parts(site)
    # 730 x 0.194236 = 141.79228; discount = -(1 - 0.80020) x 141.79228 = -28.33010
    assert p["compute n2-standard-4 x1 (on-demand)"] == pytest.approx(141.79228)
    assert p["GCP sustained-use discount (n2-standard-4)"] == pytest.approx(
        -(1 - 0.80020) * 141.79228)
    assert not any("sustained" in n for n in parts(site, sustained_use_discount=False))
    assert not any("sustained" in c.name for c in cost(site, term="3y").components)
    assert not any("sustained" in n for n in parts(GCP))


def test_support_percentage_of_the_bill():
    p = parts(AWS, support_pct=10)
    # compute 730 x 0.17 = 124.1; support 10 % of it = 12.41
    assert p["support plan 10%"] == pytest.approx(12.41)


def test_price_override_per_term():
    site = dict(AWS, price_override={"terms": {"on-demand": 0.2, "3y": 0.1},
                                     "reason": "quote from our reseller"})
    od = cost(site, term="on-demand")
    y3 = cost(site, term="3y")
    # on-demand 730 x 0.2 = 146; 3y bills 730 h x 0.1 = 73, both labelled override
    assert od.monthly_usd == pytest.approx(146.0) and od.price_label == "override"
    assert y3.monthly_usd == pytest.approx(73.0) and "quoted for 3y" in y3.components[0].note
    with pytest.raises(PriceNotFoundError, match="no 1-year reservation"):
        cost(site, term="1y")


def test_compliance_levels_and_requirements():
    # FedRAMP High: Azure and GCP US regions; AWS commercial regions are Moderate only
    assert check("aws", "us-east-1", ["fedramp-moderate"]).failed == []
    fail = check("aws", "us-east-1", ["fedramp-high", "hipaa-baa"])
    assert fail.failed == ["fedramp-high"] and fail.value == 0
    assert check("azure", "eastus", ["fedramp-high", "hipaa-baa"]).value == 2
    assert check("gcp", "europe-west1", ["fedramp-high"]).failed == ["fedramp-high"]
    assert "BAA available" in check("gcp", "us-central1", []).note
    c = parse_campaign({"name": "t", "requires": ["fedramp-high", "hipaa-baa"], "sites": [
        {"name": "a", **AWS}, {"name": "z", **AZ}]})
    inputs = gather_cost_inputs(c, {"compliance"}, want_costs=False)
    assert inputs.compliance["a"][0] == 0 and "FAILS fedramp-high" in inputs.compliance["a"][2]
    assert inputs.compliance["z"][:2] == (2, 2)


def test_equivalents_memory_tolerance_and_non_burstable_db():
    assert memory_matches(15, 16) and memory_matches(7.5, 8)
    assert not memory_matches(4, 8) and not memory_matches(16, 8)
    cat = load_catalog()
    # compute/4 -> 8 GiB: the highcpu shape, never n2-highcpu-4 (4 GB) or c2d-standard-4 (16)
    row = resolve_size("gcp", "us-central1", SizeSpec(family="compute", vcpus=4), cat)
    assert row.memory_gib == 8
    with pytest.raises(PriceNotFoundError, match="memory 64 GiB"):
        resolve_size("gcp", "us-central1", SizeSpec(family="compute", vcpus=4,
                                                    memory_gib=64), cat)
    # databases: 2 vCPU / 4 GiB on AWS is only db.t4g.medium, which is burstable
    (aws,) = db_equivalents(2, 4, True, regions={"aws": "us-east-1"}, catalog=cat)
    assert aws.instance is None and "non-burstable" in (aws.error or "")
    (aws,) = db_equivalents(2, 4, True, burstable=True, regions={"aws": "us-east-1"},
                            catalog=cat)
    assert aws.instance == "db.t4g.medium" and aws.burstable
    site = dict(AWS, database={"instance": "db.t4g.medium", "ha": True, "storage_gb": 10},
                price_override={"db_storage_usd_per_gb_month": 0.23, "reason": "x2 gp2"})
    assert any("BURSTABLE" in cv for cv in cost(site).caveats)


def test_report_cost_label_marks_secondary_and_age():
    from scoring.report import cost_label

    c = cost(AWS, egress_gb_per_month=200)
    free = next(x for x in c.components if x.kind == "egress" and x.unit_price_usd == 0)
    label = cost_label(free)
    # the free 100 GB comes from secondary pages dated 2026-05-06: more than 90 days old
    assert "SECONDARY" in label and "2026-05-06" in label and "older than 90 days" in label
    paid = next(x for x in c.components if x.kind == "egress" and x.unit_price_usd > 0)
    assert "provider API via a third-party copy" in cost_label(paid)
