"""Managed PostgreSQL storage: the programs provision it and the TCO prices it by one rule.

core/provider_facts.py holds the rule (Azure Flexible Server's fixed sizes, the RDS gp3
and Cloud SQL minimums); these tests declare each provider's real program under Pulumi
mocks, as `bakeoff plan` does, and check the size it asks the provider for is the size the
cost model bills.
"""

from __future__ import annotations

import pytest

from bakeoff.cloudsites import plan_spec
from bench.scenarios import parse_campaign
from core.provider_facts import DB_STORAGE, provisioned_db_storage_gb
from scoring.tco import estimate_site
from stacks.cloud.preview import preview_program

SITES = {
    "aws": ({"region": "us-east-1", "zones": ["us-east-1a", "us-east-1b"],
             "instance_type": "c6i.xlarge"}, "db.m6i.large",
            "aws:rds/instance:Instance", lambda p: p["allocatedStorage"], "pulumi_aws"),
    "azure": ({"region": "eastus", "zones": ["1", "2"], "instance_type": "Standard_F4s_v2"},
              "GP_Standard_D2ds_v5", "azure-native:dbforpostgresql:Server",
              lambda p: p["storage"]["storageSizeGB"], "pulumi_azure_native"),
    "gcp": ({"region": "us-central1", "zones": ["us-central1-a", "us-central1-b"],
             "instance_type": "c2d-highcpu-4"}, "db-custom-2-7680",
            "gcp:sql/databaseInstance:DatabaseInstance",
            lambda p: p["settings"]["diskSize"], "pulumi_gcp"),
}
# Prices stated so every provider prices the same way (the quantity is what is tested).
OVERRIDE = {"db_usd_per_hour": 0.5, "db_storage_usd_per_gb_month": 0.2, "reason": "test"}


def _campaign(provider: str, storage_gb: float):
    site, db_class, *_ = SITES[provider]
    return parse_campaign({
        "name": "dbsize", "workloads": [{"name": "sysbench-cpu"}],
        "sites": [{"name": "s", "provider": provider, **site, "loadgen": 0,
                   "database": {"instance": db_class, "storage_gb": storage_gb},
                   "price_override": OVERRIDE}]})


def _billed_gb(campaign) -> float:
    cost = estimate_site(campaign, "s")
    (store,) = [c for c in cost.components if c.kind == "database_storage"]
    return store.quantity


def test_azure_40_gb_is_priced_as_the_64_gib_azure_provisions():
    cost = estimate_site(_campaign("azure", 40), "s")
    (store,) = [c for c in cost.components if c.kind == "database_storage"]
    # Flexible Server sells 32, 64, 128 ... GiB: 40 asked -> 64 provisioned; 64 x 0.2 = 12.8
    assert store.quantity == 64 and store.monthly_usd == pytest.approx(12.8)
    assert "40 GB asked, 64 provisioned" in store.note


def test_rule_per_provider():
    assert [provisioned_db_storage_gb("aws", n) for n in (5, 20, 20.2, 500)] == [
        20, 20, 21, 500]
    assert [provisioned_db_storage_gb("gcp", n) for n in (1, 10, 10.5, 64)] == [
        10, 10, 11, 64]
    assert provisioned_db_storage_gb("azure", 129) == 256
    for rule in DB_STORAGE.values():
        assert rule.provision(rule.maximum) == rule.maximum


@pytest.mark.parametrize(("provider", "asked"), [("aws", 5), ("azure", 40), ("gcp", 5.5)])
def test_program_provisions_what_the_tco_prices(provider, asked):
    *_, db_type, size_of, sdk = SITES[provider]
    pytest.importorskip(sdk)
    campaign = _campaign(provider, asked)
    preview = preview_program(plan_spec(campaign.sites[0], campaign))
    (db,) = [r for r in preview.resources if r.type == db_type]
    provisioned = size_of(db.properties)
    assert provisioned == _billed_gb(campaign) == provisioned_db_storage_gb(provider, asked)
    assert provisioned > asked  # each case is one the provider rounds up
