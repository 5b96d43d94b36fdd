"""Azure Premium SSD v2 in eastus, priced from the shipped snapshot: capacity per GiB-month,
IOPS above the free 3,000 and MB/s above the free 125, so two disks of equal IOPS (Premium
SSD v1 raised to P30, or v2 at 100 GiB) can be compared on what they cost.

Expected figures are worked by hand from the hourly Retail Prices API meters the row quotes
(scoring/data/pricing/storage.csv, PROVENANCE.md): capacity $0.00011 per GiB-hour, IOPS
$0.000007 per IOPS-hour above 3,000, throughput $0.000055 per MB/s-hour above 125, each x 730 h.
"""

from __future__ import annotations

import re

import pytest

from bench.scenarios import parse_campaign
from scoring.catalog_csv import CatalogError, read_rows
from scoring.catalog_load import DATA_DIR, load_catalog
from scoring.catalog_rows import StorageRow
from scoring.tco import estimate_site


def _cost(**site):
    base = {"name": "z", "provider": "azure", "region": "eastus", "zones": ["1", "2"],
            "instance_type": "Standard_D4ls_v6", "disk_type": "PremiumV2_LRS", "disk_gb": 100,
            "disk_iops": 3000}
    campaign = parse_campaign({"name": "t", "sites": [{**base, **site}],
                               "usage": {"hours_per_month": 730, "instances": 2}}, "test")
    cost = estimate_site(campaign, "z")
    return {c.name: c.monthly_usd for c in cost.components
            if c.kind in ("storage", "iops")}


def test_the_row_is_the_hourly_meters_times_730():
    row = load_catalog().storage("azure", "eastus", "premium-ssd-v2")
    hourly = [float(x) for x in re.findall(r"(\d[\d.e-]*) per 1", row.source)]
    # the source quotes the priced tiers: capacity, IOPS, MB/s per hour
    assert hourly == [0.00011, 7e-06, 5.5e-05]
    assert row.usd_per_gb_month == pytest.approx(0.00011 * 730)  # 0.0803
    assert row.iops_usd_per_month == pytest.approx(7e-06 * 730)  # 0.00511
    assert row.throughput_usd_per_mbps_month == pytest.approx(5.5e-05 * 730)  # 0.04015
    assert (row.iops_included, row.throughput_included_mbps) == (3000, 125)
    assert row.confidence.startswith("secondary")


def test_equal_iops_v2_against_p30():
    v2 = _cost()
    # 2 disks x 100 GiB x 0.0803 = 16.06; 3,000 IOPS are the free baseline: 0 x 0.00511 = 0;
    # no throughput asked: no MB/s line (125 MB/s are included)
    assert v2 == {"disk premium-ssd-v2 100 GB x2": pytest.approx(16.06),
                  "provisioned IOPS (premium-ssd-v2)": 0.0}
    p30 = _cost(disk_type="Premium_LRS")
    # the same 3,000 IOPS on Premium SSD v1 raise 100 GiB to P30: 2 x 135.17 = 270.34
    assert p30 == {"disk premium-ssd 100 GB x2 as P30": pytest.approx(270.34)}
    assert sum(v2.values()) < sum(p30.values())


def test_iops_and_throughput_above_the_baseline_are_billed():
    got = _cost(disk_iops=5000, disk_throughput_mbps=200)
    # IOPS: (5,000 - 3,000) x 2 disks x 0.00511 = 20.44
    # MB/s: (200 - 125) x 2 disks x 0.04015 = 6.0225
    assert got == {"disk premium-ssd-v2 100 GB x2": pytest.approx(16.06),
                   "provisioned IOPS (premium-ssd-v2)": pytest.approx(20.44),
                   "provisioned throughput (premium-ssd-v2)": pytest.approx(6.0225)}


def test_a_throughput_price_needs_its_included_mbps(tmp_path):
    path = tmp_path / "storage.csv"
    header = StorageRow.csv_columns()
    values = dict.fromkeys(header, "")
    values.update(provider="azure", region="eastus", volume_type="premium-ssd-v2",
                  usd_per_gb_month="0.08", iops_model="per_iops", iops_usd_per_month="0.005",
                  iops_included="3000", throughput_usd_per_mbps_month="0.04", source="s",
                  confidence="secondary")
    path.write_text(",".join(header) + "\n" + ",".join(values[h] for h in header) + "\n")
    with pytest.raises(CatalogError, match=r"storage\.csv:2: .*throughput_included_mbps"):
        read_rows(path, StorageRow)


def test_shipped_file_reads():
    rows = read_rows(DATA_DIR / "pricing" / "storage.csv", StorageRow)
    assert [r.volume_type for r in rows if r.provider == "azure"] == ["premium-ssd-v2"]


def test_poc_web_db_azure_disk_is_v2_at_gp3_iops():
    from bench.scenarios import load_campaign_file

    root = DATA_DIR.parents[1]
    c = load_campaign_file(root / "scenarios" / "poc-web-db.yaml")
    parts = {x.name: x.monthly_usd for x in estimate_site(c, "azure").components
             if x.kind in ("storage", "iops")}
    # 3,000 IOPS each, as gp3 includes on AWS: 2 x 100 GiB x 0.0803 = 16.06, no IOPS above
    # the free 3,000 (the site's total falls from P30's 2 x 135.17 = 270.34 by 254.28)
    assert parts == {"disk premium-ssd-v2 100 GB x2": pytest.approx(16.06),
                     "provisioned IOPS (premium-ssd-v2)": 0.0}


def test_the_tco_refuses_what_the_program_refuses():
    # Premium SSD v2 allows at most 500 IOPS per GiB (core/disk_rule.py): 100 GiB hold 50,000,
    # so 60,000 is refused by the program and is a named problem in the TCO, not a price
    from scoring.tco import MissingPrices

    with pytest.raises(MissingPrices) as e:
        _cost(disk_iops=60000)
    assert any("PremiumV2_LRS" in m and "500 per GiB" in m for m in e.value.missing)
