"""Managed-platform price rows (platforms.csv): loaded and validated like the other kinds,
every row with provenance, and the free allowances recomputed by hand."""

from __future__ import annotations

import shutil

import pytest

from core.errors import PriceNotFoundError
from scoring.catalog_csv import CatalogError
from scoring.catalog_load import DATA_DIR, load_catalog


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_control_planes_and_serverless_are_priced(catalog):
    eks = catalog.platform("aws", "us-east-1", "eks", "standard-support", "cluster_hour")
    ext = catalog.platform("aws", "us-east-1", "eks", "extended-support", "cluster_hour")
    # a month of one cluster: 730 x 0.10 = 73.00 (standard), 730 x 0.60 = 438.00 (extended)
    assert 730 * eks.usd_per_unit == pytest.approx(73.0)
    assert 730 * ext.usd_per_unit == pytest.approx(438.0)
    assert catalog.platform("azure", "eastus", "aks", "free", "cluster_hour").usd_per_unit == 0
    gke = catalog.platform("gcp", "us-central1", "gke", "standard", "cluster_hour")
    # the $74.40 monthly credit is 744 cluster-hours at $0.10: one zonal cluster all month
    assert gke.free_units_per_month * gke.usd_per_unit == pytest.approx(74.40)
    # Lambda arm64 duration is 20 % below x86_64: 0.0000133334 / 0.0000166667 = 0.8
    x86 = catalog.platform("aws", "us-east-1", "lambda", "x86_64", "gb_second").usd_per_unit
    arm = catalog.platform("aws", "us-east-1", "lambda", "arm64", "gb_second").usd_per_unit
    assert arm / x86 == pytest.approx(0.8, abs=1e-4)
    # Cloud Run: 1 vCPU + 1 GiB busy for a whole 730 h month beyond the free tier:
    # 730 x 3600 = 2,628,000 s; (2,628,000 - 180,000) x 0.000024 = 58.752;
    # (2,628,000 - 360,000) x 0.0000025 = 5.67
    cpu = catalog.platform("gcp", "us-central1", "cloud_run", "request-based", "vcpu_second")
    mem = catalog.platform("gcp", "us-central1", "cloud_run", "request-based", "gib_second")
    assert (2_628_000 - cpu.free_units_per_month) * cpu.usd_per_unit == pytest.approx(58.752)
    assert (2_628_000 - mem.free_units_per_month) * mem.usd_per_unit == pytest.approx(5.67)
    rows = catalog.all_rows()["platforms"]
    assert {r.service for r in rows} == {"eks", "aks", "gke", "lambda", "azure_functions",
                                         "cloud_run"}
    assert all(r.source and r.source_url.startswith("https://") and r.confidence
               for r in rows)


def test_a_missing_platform_price_is_named(catalog):
    # Flex Consumption's always-ready execution time: no stored USD source (docs/pricing.md)
    with pytest.raises(PriceNotFoundError,
                       match="no azure_functions flex-always-ready gb_second price"):
        catalog.platform("azure", "eastus", "azure_functions", "flex-always-ready", "gb_second")


def test_flex_consumption_rows(catalog):
    """Flex Consumption on demand (executions and GB-s, with the monthly free grant) and the
    always-ready baseline, recomputed from the published meters."""
    ex = catalog.platform("azure", "eastus", "azure_functions", "flex-on-demand", "requests")
    gbs = catalog.platform("azure", "eastus", "azure_functions", "flex-on-demand", "gb_second")
    base = catalog.platform("azure", "eastus", "azure_functions", "flex-always-ready",
                            "baseline_gb_second")
    # 3M executions of 1 s on 2 GB instances, on demand: 6,000,000 GB-s;
    # (6,000,000 - 100,000) x 0.000026 = 153.40; the meter is $0.000004 per 10 executions:
    # (3,000,000 - 250,000) / 10 x 0.000004 = 1.10
    assert (6_000_000 - gbs.free_units_per_month) * gbs.usd_per_unit == pytest.approx(153.40)
    assert (3_000_000 - ex.free_units_per_month) * ex.usd_per_unit == pytest.approx(1.10)
    # one always-ready 2 GB instance all month: 2 x 730 x 3,600 = 5,256,000 GB-s x 0.000004
    # = 21.024, with no free grant
    assert 2 * 730 * 3600 * base.usd_per_unit == pytest.approx(21.024)
    assert base.free_units_per_month is None and ex.free_scope and gbs.free_scope


def test_aks_premium_and_gke_autopilot_rows(catalog):
    """Rows added for the cluster-cost helper, recomputed from their published figures."""
    std = catalog.platform("azure", "eastus", "aks", "standard", "cluster_hour")
    prem = catalog.platform("azure", "eastus", "aks", "premium", "cluster_hour")
    # Retail Prices API: 'Standard Long Term Support' 0.6 per 1 Hour; a 730 h month = 438.00,
    # billed instead of the Standard 0.10 (73.00), not on top of it (0.70 would be 7 x 0.10)
    assert 730 * prem.usd_per_unit == pytest.approx(438.0)
    assert prem.usd_per_unit / std.usd_per_unit == pytest.approx(6.0)
    assert prem.level == "secondary" and "cross-region" in prem.confidence
    cpu = catalog.platform("gcp", "us-central1", "gke", "autopilot", "vcpu_hour")
    mem = catalog.platform("gcp", "us-central1", "gke", "autopilot", "gib_hour")
    fee = catalog.platform("gcp", "us-central1", "gke", "autopilot", "cluster_hour")
    # two Pods of 0.5 vCPU / 1 GiB all month: 1 vCPU x 730 x 0.0445 = 32.485;
    # 2 GiB x 730 x 0.0049225 = 7.18685; plus one cluster fee 730 x 0.10 = 73.00 before the
    # $74.40 credit
    assert 1 * 730 * cpu.usd_per_unit == pytest.approx(32.485)
    assert 2 * 730 * mem.usd_per_unit == pytest.approx(7.18685)
    assert 730 * fee.usd_per_unit == pytest.approx(73.0)
    assert cpu.free_units_per_month is None and mem.free_units_per_month is None
    assert (cpu.unit, mem.unit) == ("vCPU-hour", "GiB-hour")


def test_platform_rows_are_validated(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(DATA_DIR, d)
    f = d / "pricing" / "platforms.csv"
    f.chmod(0o644)
    text = f.read_text()
    # a zero price that does not say free, and an allowance with no scope
    bad = text.replace("0.1,744,per billing account; zonal and Autopilot clusters only",
                       "0.1,744,", 1).replace(',0.0,,,"Free tier: free cluster',
                                              ',0.0,,,"Tier: cluster', 1)
    assert bad.count("\n") == text.count("\n") and bad != text
    f.write_text(bad)
    with pytest.raises(CatalogError) as e:
        load_catalog(d)
    msg = str(e.value)
    assert "platforms.csv" in msg and "does not say 'free'" in msg
    assert "needs free_scope" in msg
