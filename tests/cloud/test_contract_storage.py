"""The cloud program contract (tests/cloud/program_contract.py): disks and the
database. Encrypted and sized disks, provisioned IOPS, a private database."""

from __future__ import annotations

from dataclasses import replace

import pytest

from stacks.cloud.spec import DiskSpec, SiteSpecError, environment_database
from tests.cloud.program_contract import ADAPTERS, declare, each_provider


@each_provider
def test_disks_encrypted_and_sized(provider):
    a, spec, run = declare(provider)
    disks = a.data_disks(run)
    assert len(disks) == len(spec.roles)
    assert all(d["encrypted"] for d in disks)
    assert {d["size_gb"] for d in disks} == {spec.disk.size_gb}


@each_provider
def test_provisioned_iops_only_where_the_disk_type_allows(provider):
    a = ADAPTERS[provider]
    if a.fixed_iops_type:  # AWS has none among its defaults: gp3 takes IOPS
        with pytest.raises(SiteSpecError, match="IOPS"):
            declare(provider, disk=DiskSpec(a.fixed_iops_type, 100, iops=5000))
    _, spec, run = declare(provider, disk=DiskSpec(a.iops_type, 100, 5000, 250))
    disks = a.data_disks(run)
    assert len(disks) == len(spec.roles) and {d["iops"] for d in disks} == {5000}


@each_provider
def test_database_private_with_ha_when_asked(provider):
    a, spec, run = declare(provider)
    assert a.db_private(run) and not a.db_ha(run)
    a, spec, run = declare(provider,
                           database=replace(spec.database, ha=True))
    assert a.db_private(run) and a.db_ha(run)


@each_provider
def test_no_database_exports_none(provider):
    _, _, run = declare(provider, database=None)
    assert environment_database(run.exports) is None
    assert not [r for r in run.resources if "sql" in r.type.lower() or "postgres" in r.type]


def test_azure_database_storage_rounds_up_to_a_size_azure_sells():
    from stacks.cloud.spec import db_storage_gb

    _, _, run = declare("azure")  # 64 GiB asked: sold as is
    (server,) = run.of_type("azure-native:dbforpostgresql:Server")
    assert server.inputs["storage"]["storageSizeGB"] == 64
    assert [db_storage_gb("azure", n) for n in (1, 32, 33, 100, 4000)] == [
        32, 32, 64, 128, 4096]
    with pytest.raises(SiteSpecError, match="at most 32767 GiB"):
        db_storage_gb("azure", 40000)
