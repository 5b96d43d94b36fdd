"""`prices refresh`: every kind is checked for completeness (what was carried, and why), and
--dry-run shows the diff against the current snapshot and writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys

from scoring.catalog_rows import ComputeRow
from scoring.prices.common import ProviderResult
from scoring.prices.refresh import refresh
from tests.prices_azure_fixture import strict_route
from tests.prices_support import json_server


def _fetch_compute_only(regions: list[str]) -> ProviderResult:
    """A fetcher that promises compute and egress but answers compute only."""
    res = ProviderResult("aws", "fake API", regions, "2026-12-01T00:00:00+00:00",
                         expected=("compute", "egress"))
    for r in regions:
        res.add("compute", ComputeRow(
            provider="aws", region=r, instance_type="c7i.xlarge", family="compute", vcpus=4,
            memory_gib=8, ondemand_usd_per_hour=0.19, source="fake API",
            retrieved_at="2026-12-01T00:00:00+00:00", confidence="provider_api"))
    return res


def test_every_carried_kind_says_why(tmp_path):
    _, prov = refresh(tmp_path / "s", ["aws"], ["us-east-1"],
                      fetchers={"aws": _fetch_compute_only})
    why = {(c["provider"], c["region"], c["kind"]): c["why"] for c in prov["carried"]}
    # asked and promised, but none came back: said as such (not silently carried)
    assert why[("aws", "us-east-1", "egress/all")].startswith("asked, but the API returned no")
    # asked, not a kind this fetcher prices
    assert why[("aws", "us-east-1", "storage")].startswith("not fetched by this refresh")
    assert why[("aws", "eu-west-1", "compute")] == "region not asked"
    assert why[("gcp", "us-central1", "compute")] == "provider not asked"
    assert all(c["why"] for c in prov["carried"])


def test_dry_run_diffs_and_writes_nothing(tmp_path):
    dest = tmp_path / "s"
    cat, prov = refresh(dest, ["aws"], ["us-east-1"], fetchers={"aws": _fetch_compute_only},
                        dry_run=True)
    assert not dest.exists() and list(tmp_path.iterdir()) == []
    changes = {(c.kind, c.key, c.change) for c in prov["diff"]}
    # the shipped c7i.xlarge (0.1785) would become 0.19; c6i.xlarge would be removed
    assert ("compute", "aws/us-east-1/c7i.xlarge", "changed") in changes
    assert ("compute", "aws/us-east-1/c6i.xlarge", "removed") in changes
    assert cat.compute("aws", "us-east-1", "c7i.xlarge").ondemand_usd_per_hour == 0.19


def test_cli_dry_run_against_the_strict_azure_fake(tmp_path):
    with json_server(strict_route()) as (base, log):
        env = {**os.environ, "BAKEOFF_AZURE_PRICES_URL": f"{base}/api/retail/prices",
               "COLUMNS": "250", "XDG_DATA_HOME": str(tmp_path / "xdg")}
        r = subprocess.run([sys.executable, "-c", "from bakeoff.cli import main; main()",
                            "prices", "refresh", "--provider", "azure", "--region", "eastus",
                            "--dry-run"], env=env, capture_output=True, text=True,
                           timeout=300)
    assert r.returncode == 0, r.stderr
    out = " ".join(r.stdout.replace("│", " ").split())
    assert "dry run: nothing was written" in out
    # Standard_F4s_v2 stays 0.169 (unchanged); the eastus F2s_v2 the fake does not answer
    # would be removed; the fake's ZRS tier would be added
    assert "azure/eastus/Standard_F2s_v2 removed" in out
    assert "premium-ssd-zrs" in out and "added" in out
    assert "(asked, but the API returned no rows" not in out  # every expected kind answered
    assert not (tmp_path / "xdg").exists()
    assert log, "the fake was never asked"
