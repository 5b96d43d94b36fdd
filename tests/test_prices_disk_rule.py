"""One disk rule for the programs and the TCO (core/disk_rule.py): size, tier and IOPS.

Every expected figure is worked from the providers' published performance tables, written
next to the assertion; the program side is checked through stacks/cloud/resolve.build_spec,
the TCO side through scoring.tco, so the two cannot drift apart.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bench.scenarios import parse_campaign
from core.disk_rule import plan_disk
from core.provider_facts import ProviderLimitError
from scoring.tco import estimate_site
from stacks.cloud.resolve import build_spec


@pytest.mark.parametrize(("dtype", "gb", "iops", "size", "tier", "delivers"), [
    # Premium SSD: 100 GiB is P10 (500 IOPS); 3,000 IOPS need P30 (1,024 GiB, 5,000 IOPS)
    ("Premium_LRS", 100, None, 100, "P10", 500),
    ("Premium_LRS", 100, 3000, 1024, "P30", 5000),
    ("Premium_LRS", 100, 2000, 512, "P20", 2300),
    # pd-ssd: 6,000 + 30/GiB -> 100 GiB deliver 9,000; 12,000 need (12000-6000)/30 = 200
    ("pd-ssd", 100, None, 100, None, 9000),
    ("pd-ssd", 100, 12000, 200, None, 12000),
    # pd-balanced: 3,000 + 6/GiB -> 100 GiB deliver 3,600; 6,000 need 3000/6 = 500
    ("pd-balanced", 100, 3000, 100, None, 3600),
    ("pd-balanced", 100, 6000, 500, None, 6000),
    # gp3: 3,000 included whatever the size; 4,000 provisioned as asked
    ("gp3", 100, None, 100, None, 3000),
    ("gp3", 100, 4000, 100, None, 4000),
    # Premium SSD v2: the same 3,000 baseline as gp3
    ("PremiumV2_LRS", 100, None, 100, None, 3000),
])
def test_plan_delivers_what_was_asked(dtype, gb, iops, size, tier, delivers):
    p = plan_disk(dtype, gb, iops)
    assert (p.size_gb, p.tier, p.iops) == (size, tier, delivers)
    assert p.iops >= (iops or 0)


def test_what_the_api_is_sent():
    # performance that follows size is never sent as IOPS (the APIs refuse it)
    assert plan_disk("Premium_LRS", 100, 3000).send_iops is None
    assert plan_disk("pd-ssd", 100, 12000).send_iops is None
    # provisioned types: sent as asked, never below the free baseline
    assert plan_disk("gp3", 100, 4000, 250).send_iops == 4000
    assert plan_disk("gp3", 100, 4000, 250).send_throughput_mbps == 250
    assert plan_disk("gp3", 100, 1000).send_iops == 3000
    assert plan_disk("gp3", 100).send_iops is None  # provider default (3,000)


def test_limits_are_clear_errors():
    with pytest.raises(ProviderLimitError, match="500 per GiB"):
        plan_disk("gp3", 10, 6000)                   # 10 GiB x 500 = 5,000 max
    with pytest.raises(ProviderLimitError, match="IOPS are required"):
        plan_disk("io2", 100)
    with pytest.raises(ProviderLimitError, match="no Premium SSD tier"):
        plan_disk("Premium_LRS", 100, 30000)


def _site(**kw):
    base = {"name": "z", "provider": "azure", "region": "eastus", "zones": ["1", "2"],
            "instance_type": "Standard_D4ls_v6", "disk_type": "Premium_LRS", "disk_gb": 100,
            "disk_iops": 3000}
    return {**base, **kw}


def test_program_and_tco_use_the_same_disk():
    campaign = parse_campaign({"name": "t", "sites": [_site()],
                               "usage": {"hours_per_month": 730, "instances": 1}}, "test")
    site = campaign.sites[0]
    spec = build_spec(site, campaign, "c", cidr="192.0.2.1/32", ssh_public_key="k",
                      host_keys={}, db_password="", now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    # the program creates a 1,024 GiB Premium_LRS disk (P30) and sends no IOPS ...
    assert (spec.disk.type, spec.disk.size_gb, spec.disk.iops) == ("Premium_LRS", 1024, None)
    # ... and the TCO bills that P30: 1 disk x 135.17 (disk_tiers.csv, eastus P30)
    cost = estimate_site(campaign, "z")
    (disk,) = [c for c in cost.components if c.kind == "storage"]
    assert disk.name.endswith("as P30") and disk.monthly_usd == pytest.approx(135.17)
    assert "size raised from 100 to 1024 GiB" in disk.note


def test_gcp_program_disk_for_iops_grows_instead_of_failing():
    gcp = {"name": "g", "provider": "gcp", "region": "us-central1",
           "zones": ["us-central1-a", "us-central1-b"], "instance_type": "n4-highcpu-4",
           "disk_type": "pd-ssd", "disk_gb": 100, "disk_iops": 12000}
    campaign = parse_campaign({"name": "t", "sites": [gcp]}, "test")
    spec = build_spec(campaign.sites[0], campaign, "c", cidr="192.0.2.1/32",
                      ssh_public_key="k", host_keys={}, db_password="",
                      now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert (spec.disk.size_gb, spec.disk.iops) == (200, None)

