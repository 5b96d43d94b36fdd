"""The price catalog: the shipped snapshot loads and validates; bad rows are named; equivalents."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.errors import PriceNotFoundError
from core.scenario import SizeSpec
from scoring.catalog import CatalogError
from scoring.catalog_load import DATA_DIR, load_catalog
from scoring.equivalents import equivalents, resolve_size


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_shipped_snapshot_loads_every_file(catalog):
    # Row counts as documented in scoring/data/pricing/PROVENANCE.md.
    # 496 + 212 rows added for the like-for-like rule (AMD and current Intel/Arm families).
    assert len(catalog.compute_rows()) == 708
    assert len(catalog.disk_tiers("azure", "eastus", "premium-ssd")) == 5  # P4 P6 P10 P20 P30
    assert catalog.service("aws", "us-east-1", "lb_hour").usd_per_unit == 0.0225
    assert len(catalog.egress_tiers("gcp", "us-central1")) == 3
    assert len(catalog.egress_tiers("aws", "us-east-1")) == 5
    assert catalog.commitment_providers() == ["aws", "azure", "gcp"]  # issue 18 rows
    assert len(catalog.snapshot_id) == 12


def test_rows_carry_provenance_and_arch(catalog):
    row = catalog.compute("aws", "us-east-1", "c6i.xlarge")
    assert row.ondemand_usd_per_hour == 0.17 and row.vcpus == 4 and row.memory_gib == 8
    assert "skypilot-org/skypilot-catalog@001367d2" in row.provenance
    assert row.arch == "x86_64"
    assert catalog.compute("aws", "us-east-1", "c7g.xlarge").arch == "arm64"
    assert catalog.compute("azure", "eastus", "Standard_D4ps_v5").arch == "arm64"
    assert catalog.compute("azure", "eastus", "Standard_D4s_v5").arch == "x86_64"
    assert catalog.compute("gcp", "us-central1", "c4a-standard-4").arch == "arm64"


def test_unknown_instance_type_lists_what_exists(catalog):
    with pytest.raises(PriceNotFoundError) as e:
        catalog.compute("aws", "us-east-1", "c5.xlarge")
    msg = str(e.value)
    assert "aws us-east-1" in msg and "'c5.xlarge'" in msg and "c6i.xlarge" in msg


def test_gcp_custom_db_shape_is_computed_from_unit_rows(catalog):
    # db-custom-6-23040 regional: 6 vCPU x 0.0826 + (23040/1024 = 22.5 GB) x 0.014
    #   = 0.4956 + 0.315 = 0.8106 $/h; storage = the regional SSD rate 0.34
    p = catalog.managed_db("gcp", "us-central1", "db-custom-6-23040", ha=True)
    assert p.usd_per_hour == pytest.approx(0.8106)
    assert p.storage_usd_per_gb_month == 0.34
    assert "computed" in p.note and "infracost" in p.source
    # a shape that is a catalog row is taken as the row
    assert catalog.managed_db("gcp", "us-central1", "db-custom-4-15360", False).note == \
        "catalog row"


def test_compliance_and_sla_rows(catalog):
    for provider in ("aws", "azure", "gcp"):
        att = catalog.compliance(provider)
        assert set(att) == {"SOC 2", "HIPAA", "PCI DSS", "FedRAMP"}
        assert all(a.source.startswith("https://") for a in att.values())
    rds = catalog.sla("aws", "managed_postgresql", "ha")
    assert rds.availability_pct == 99.95 and rds.credit_tiers[0] == (99.0, 10.0)
    assert "aws.amazon.com/rds/sla" in rds.source_url
    assert catalog.sla("gcp", "managed_postgresql", "single").covered is False


def _copy_data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(DATA_DIR, d)
    for p in d.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    return d


def _replace_line(path: Path, lineno: int, transform) -> None:
    lines = path.read_text().splitlines(keepends=True)
    lines[lineno - 1] = transform(lines[lineno - 1])
    path.write_text("".join(lines))


def test_bad_price_is_named_by_file_line_and_field(tmp_path):
    d = _copy_data(tmp_path)
    compute = d / "pricing" / "compute.csv"
    # line 3 is aws us-east-1 c6i.2xlarge with on-demand 0.34: make it negative
    _replace_line(compute, 3, lambda s: s.replace(",0.34,", ",-0.34,", 1))
    with pytest.raises(CatalogError) as e:
        load_catalog(d)
    msg = str(e.value)
    assert "compute.csv:3" in msg and "ondemand_usd_per_hour" in msg and "-0.34" in msg


def test_unknown_provider_and_missing_source_are_rejected(tmp_path):
    d = _copy_data(tmp_path)
    egress = d / "pricing" / "egress.csv"
    _replace_line(egress, 2, lambda s: s.replace("azure,", "ibm,", 1))
    storage = d / "pricing" / "storage.csv"
    lines = storage.read_text().splitlines()
    lines.append("aws,us-east-1,st1,0.045,included_with_size,,,,,,,primary,no source given")
    storage.write_text("\n".join(lines) + "\n")
    with pytest.raises(CatalogError) as e:
        load_catalog(d)
    msg = str(e.value)
    assert "egress.csv:2: field 'provider'" in msg and "'ibm'" in msg
    assert f"storage.csv:{len(lines)}: field 'source'" in msg


def test_duplicate_key_is_rejected(tmp_path):
    d = _copy_data(tmp_path)
    compute = d / "pricing" / "compute.csv"
    lines = compute.read_text().splitlines()
    lines.append(lines[2])
    compute.write_text("\n".join(lines) + "\n")
    with pytest.raises(CatalogError,
                       match=rf"compute.csv:{len(lines)}: duplicate key .*first on line 3"):
        load_catalog(d)


def test_equivalents_for_compute_4_vcpu(catalog):
    # x86 compute (highcpu) 4 vCPU / 8 GiB +-10 %, non-burstable, any vendor. CPU eras with a
    # candidate (cpu_platforms.csv), any region:
    #   aws   c6i/c6a 2, c7i/c7a 3, c8i/c8a 4          -> {2, 3, 4}
    #   azure F4s_v2 1, D4ls_v5 2, D4ls_v6/D4als_v6/F4als_v6 3 -> {1, 2, 3}
    #   gcp   n2d 1, c2d 2, c3/c3d/c4/n4 3             -> {1, 2, 3}
    # newest shared era = 3. Cheapest era-3 row per region:
    #   aws us-east-1: c7i.xlarge 0.1785 < c7a.xlarge 0.20528 (c6i.xlarge 0.17 is era 2: out)
    #   azure eastus: D4als_v6 0.161 < D4ls_v6 0.179 < F4als_v6 0.242 (F4s_v2 0.169 era 1: out)
    #   gcp us-central1: c3d-highcpu-4 0.149924 (c2d-highcpu-4 0.149924 is era 2: out)
    eq = {e.provider: e for e in equivalents("compute", 4, catalog=catalog)}
    assert eq["aws"].row.instance_type == "c7i.xlarge"
    assert eq["azure"].row.instance_type == "Standard_D4als_v6"
    assert eq["gcp"].row.instance_type == "c3d-highcpu-4"
    assert not any(d.startswith("memory") for e in eq.values() for d in e.differences)
    assert not any(d.startswith("CPU era") for e in eq.values() for d in e.differences)
    # (0.1785 / 0.149924 - 1) x 100 = 19.06% -> "19%"; vendors differ and are named
    assert "on-demand 19% above the cheapest" in eq["aws"].differences
    assert "CPU vendor intel" in eq["aws"].differences
    # Intel only: aws c7i 0.1785, azure D4ls_v6 0.179, gcp min(c3 0.170104, c4 0.170104,
    # n4-highcpu-4 0.15308) = n4-highcpu-4
    intel = {e.provider: e.row.instance_type
             for e in equivalents("compute", 4, catalog=catalog, cpu_vendor="intel")}
    assert intel == {"aws": "c7i.xlarge", "azure": "Standard_D4ls_v6", "gcp": "n4-highcpu-4"}


def test_resolve_size_memory_and_arch(catalog):
    general16 = SizeSpec(family="general", vcpus=4, memory_gib=16)
    # gcp general 4-vCPU with 16 GiB +-10 % (t2a is arm64): n2 0.194236 and n2d 0.168984
    # are era 1, c2d era 2; era 3 (shared by aws m7i/m7a, azure D4s_v6/D4as_v6): c3 0.201608,
    # c3d 0.181596, c4 (15 GB, within 10 %) 0.19767, n4 0.1814 -> n4-standard-4
    assert resolve_size("gcp", "us-central1", general16, catalog).instance_type == \
        "n4-standard-4"
    # arm compute 4/8: aws c7g (Graviton3, era 2) and c8g (Graviton4, era 3); gcp only
    # c4a-highcpu-4 (Axion, era 3); azure none -> shared era 3 -> c8g.xlarge although
    # c7g.xlarge is cheaper
    arm = SizeSpec(family="compute", vcpus=4, arch="arm64")
    assert resolve_size("aws", "us-east-1", arm, catalog).instance_type == "c8g.xlarge"
    # era 2 is what aws eu-west-1 has: the region falls back to its newest (c7g)
    assert resolve_size("aws", "eu-west-1", arm, catalog).instance_type == "c7g.xlarge"
    with pytest.raises(PriceNotFoundError) as e:
        resolve_size("azure", "eastus", arm, catalog)
    assert "no instance type with family=compute, vcpus=4, arch=arm64" in str(e.value)
    assert "general/arm64/4 vCPU/16 GiB" in str(e.value)  # lists what exists


def test_unknown_region_names_the_regions_that_exist(catalog):
    with pytest.raises(PriceNotFoundError, match="regions with prices: eu-west-1, us-east-1"):
        resolve_size("aws", "ap-south-1", SizeSpec(family="compute", vcpus=4), catalog)
