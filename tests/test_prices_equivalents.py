"""Like for like by rule: CPU vendor and era, burstable or not, ties to the newest generation.

Expected picks are worked by hand from the shipped rows (scoring/data/pricing/compute.csv)
and the platform table (scoring/data/cpu_platforms.csv), written next to each assertion.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.errors import PriceNotFoundError
from core.scenario import SizeSpec
from scoring.catalog_csv import CatalogError
from scoring.catalog_load import DATA_DIR, load_catalog
from scoring.equivalents import common_era, equivalents, resolve_size


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _snapshot(tmp_path: Path, drop: set[str] = frozenset(), add: list[dict] = ()) -> Path:
    """A copy of the shipped data with compute rows dropped (by instance type) or added."""
    d = tmp_path / "data"
    shutil.copytree(DATA_DIR, d)
    for p in d.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    f = d / "pricing" / "compute.csv"
    with f.open(newline="") as fh:
        reader = csv.DictReader(fh)
        cols, rows = reader.fieldnames, list(reader)
    rows = [r for r in rows if r["instance_type"] not in drop] + [dict(r) for r in add]
    with f.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return d


def test_platform_facts_are_derived_for_every_shipped_row(catalog):
    row = catalog.compute("azure", "eastus", "Standard_F4s_v2")
    assert (row.cpu_vendor, row.era, row.burstable) == ("intel", 1, False)
    assert "Skylake" in row.generation
    assert catalog.compute("aws", "us-east-1", "c7a.xlarge").cpu_vendor == "amd"
    assert catalog.compute("aws", "us-east-1", "t3.xlarge").burstable
    assert catalog.compute("azure", "eastus", "Standard_B4ms").burstable
    # every shipped row has a known platform: nothing silently drops out of the rule
    assert [r.instance_type for r in catalog.compute_rows() if r.era == 0] == []


def test_ties_go_to_the_newest_generation_not_the_name(tmp_path):
    # gcp us-central1 Intel compute 4/8 in era 3: c3-highcpu-4 0.170104 (GA 2023),
    # c4-highcpu-4 0.170104 (GA 2024), n4-highcpu-4 0.15308. Without n4 the two left cost
    # the same: the newer c4 wins, although "c3" sorts first.
    cat = load_catalog(_snapshot(tmp_path, drop={"n4-highcpu-4"}))
    size = SizeSpec(family="compute", vcpus=4, cpu_vendor="intel")
    assert resolve_size("gcp", "us-central1", size, cat).instance_type == "c4-highcpu-4"


def test_an_older_era_is_not_picked_for_being_cheaper(catalog):
    # azure eastus compute 4/8: F4s_v2 0.169 (era 1) is cheaper than D4ls_v6 0.179 (era 3),
    # but the clouds share era 3 -> D4ls_v6 (Intel); aws c6i.xlarge 0.17 (era 2) loses to
    # c7i.xlarge 0.1785 the same way.
    size = SizeSpec(family="compute", vcpus=4, cpu_vendor="intel")
    assert common_era(size, catalog) == 3
    assert resolve_size("azure", "eastus", size, catalog).instance_type == "Standard_D4ls_v6"
    assert resolve_size("aws", "us-east-1", size, catalog).instance_type == "c7i.xlarge"


def test_vendor_is_matched_on_every_cloud(catalog):
    # AMD compute 4/8, era 3: aws c7a.xlarge 0.20528 (only AMD era-3 row), azure
    # D4als_v6 0.161 < F4als_v6 0.242, gcp c3d-highcpu-4 0.149924
    eq = {e.provider: e.row for e in equivalents("compute", 4, catalog=catalog,
                                                 cpu_vendor="amd")}
    assert {p: r.instance_type for p, r in eq.items()} == {
        "aws": "c7a.xlarge", "azure": "Standard_D4als_v6", "gcp": "c3d-highcpu-4"}
    assert {r.cpu_vendor for r in eq.values()} == {"amd"}
    assert {r.era for r in eq.values()} == {3}


def test_burstable_is_never_mixed_with_dedicated(catalog):
    # general 4/16 burstable: aws t3.xlarge (era 1), azure eastus B4ms 0.166 (era 1; the
    # eastus Bsv2 rows were left out of the snapshot as price outliers); gcp has no
    # burstable 4-vCPU shape
    eq = {e.provider: e for e in equivalents("general", 4, catalog=catalog, burstable=True)}
    assert eq["aws"].row.instance_type == "t3.xlarge"
    assert eq["azure"].row.instance_type == "Standard_B4ms"
    assert eq["gcp"].row is None and "burstable" in (eq["gcp"].error or "")
    # and the dedicated rule never returns a burstable row, although B4ms (0.166) is the
    # cheapest 4/16 row in eastus
    dedicated = resolve_size("azure", "eastus", SizeSpec(family="general", vcpus=4), catalog)
    assert not dedicated.burstable and dedicated.instance_type == "Standard_D4as_v6"


def test_a_row_without_a_known_cpu_is_never_an_equivalent(tmp_path):
    cheap = {"provider": "gcp", "region": "us-central1", "instance_type": "zz9-highcpu-4",
             "family": "compute", "vcpus": "4", "memory_gib": "8",
             "ondemand_usd_per_hour": "0.01", "spot_usd_per_hour": "", "source": "test row",
             "source_date": "", "sku": "", "retrieved_at": "", "confidence": "", "notes": ""}
    cat = load_catalog(_snapshot(tmp_path, add=[cheap]))
    assert cat.compute("gcp", "us-central1", "zz9-highcpu-4").era == 0
    row = resolve_size("gcp", "us-central1", SizeSpec(family="compute", vcpus=4), cat)
    assert row.instance_type == "c3d-highcpu-4"


def test_vendor_and_arch_must_agree():
    with pytest.raises(ValidationError, match="cpu_vendor arm does not run arch x86_64"):
        SizeSpec(family="compute", vcpus=4, cpu_vendor="arm")
    with pytest.raises(ValidationError, match="cpu_vendor"):
        SizeSpec(family="compute", vcpus=4, cpu_vendor="via")
    assert SizeSpec(family="compute", vcpus=4, cpu_vendor="arm", arch="arm64").arch == "arm64"


def test_no_match_names_the_rule_and_what_exists(catalog):
    with pytest.raises(PriceNotFoundError) as e:
        resolve_size("azure", "eastus", SizeSpec(family="memory", vcpus=4, cpu_vendor="amd",
                                                 memory_gib=64), catalog)
    msg = str(e.value)
    assert "cpu_vendor=amd" in msg and "memory 64 GiB" in msg
    assert "memory/x86_64/4 vCPU/32 GiB/amd/dedicated" in msg


def test_a_bad_platform_rule_is_named(tmp_path):
    d = _snapshot(tmp_path)
    f = d / "cpu_platforms.csv"
    f.write_text(f.read_text().replace(",3,2023,false,", ",7,2023,false,", 1))
    with pytest.raises(CatalogError, match=r"cpu_platforms.csv:\d+: field 'era'"):
        load_catalog(d)


def test_undated_rows_are_counted_not_skipped(catalog):
    # Counted independently: a row is undated when both source_date and retrieved_at are
    # empty in the shipped CSV files.
    want = {}
    for kind in ("compute", "commitments", "egress", "managed_db", "storage", "disk_tiers",
                 "services", "platforms"):
        with (DATA_DIR / "pricing" / f"{kind}.csv").open(newline="") as f:
            n = sum(1 for r in csv.DictReader(f)
                    if not r.get("source_date") and not r.get("retrieved_at"))
        if n:
            want[kind] = n
    assert catalog.undated_rows() == want
    # the AWS us-east-1 compute rows are dated (Karpenter list, 2026-07-20); eu-west-1 not
    assert catalog.compute("aws", "us-east-1", "c6i.xlarge").source_date == "2026-07-20"
    assert catalog.compute("aws", "eu-west-1", "c6i.xlarge").source_date is None
    from bakeoff.cli_prices import snapshot_banner
    assert f"{sum(want.values())} price rows undated" in snapshot_banner(catalog)


def test_the_tco_line_and_report_name_the_cpu_generation():
    # the compute component's note (shown by `tco` and in the report's cost table) names the
    # CPU and era the like-for-like rule compared
    from bench.scenarios import load_campaign_file
    from scoring.tco import estimate_campaign
    from tests.conftest import REPO

    costs = estimate_campaign(load_campaign_file(REPO / "scenarios" / "poc-web-db.yaml"))
    notes = {s: next(c.note for c in cost.components if c.kind == "compute")
             for s, cost in costs.items()}
    assert "CPU Intel Xeon 4th gen (Sapphire Rapids), era 3 (2023)" in notes["aws"]
    assert "Emerald Rapids), era 3 (2024)" in notes["azure"]
    # c3 (not n4): n4 attaches only Hyperdisk and the site asks for pd-ssd; C3 is Sapphire
    # Rapids, GA 2023 (Compute Engine machine series page)
    assert "Sapphire Rapids), era 3 (2023)" in notes["gcp"]
