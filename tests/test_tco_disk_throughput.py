"""Provisioned throughput above a disk's free baseline, on a volume type whose snapshot row
has no throughput rate, is a missing price, never a silent $0.

gp3 bills MB/s above the 125 included per volume (https://aws.amazon.com/ebs/pricing/,
"gp3 ... 125 MiB/s free ... $0.040/provisioned MiB/s-month over 125"); the shipped us-east-1
gp3 row quotes capacity and IOPS rates only, so 200 MB/s cannot be priced from it.
"""

from __future__ import annotations

import pytest

from bench.scenarios import parse_campaign
from scoring.tco import MissingPrices, estimate_site


def _estimate(**site):
    base = {"name": "a", "provider": "aws", "region": "us-east-1", "zones": ["us-east-1a"],
            "instance_type": "c7i.xlarge", "disk_type": "gp3", "disk_gb": 100}
    campaign = parse_campaign({"name": "t", "sites": [{**base, **site}],
                               "usage": {"hours_per_month": 730, "instances": 1}}, "test")
    return estimate_site(campaign, "a")


def test_gp3_throughput_above_the_baseline_without_a_rate_is_missing():
    with pytest.raises(MissingPrices) as e:
        _estimate(disk_throughput_mbps=200)
    assert [m for m in e.value.missing if "throughput" in m] == [
        "aws us-east-1: no provisioned throughput price for gp3 in the snapshot (storage.csv "
        "throughput_usd_per_mbps_month), and disk_throughput_mbps 200 is above the 125 MB/s "
        "included; give price_override.storage_usd_per_gb_month with a reason"]
    assert not any("throughput" in c.name for c in e.value.partial.components)


def test_gp3_throughput_within_the_baseline_costs_nothing_extra():
    cost = _estimate(disk_throughput_mbps=125)  # raises MissingPrices if anything is missing
    # 100 GB x $0.08 = $8.00, the gp3 row's capacity rate
    disk = [c for c in cost.components if c.name.startswith("disk gp3")]
    assert [round(c.monthly_usd, 2) for c in disk] == [8.0]
