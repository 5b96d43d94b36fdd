"""The cloud program contract (tests/cloud/program_contract.py): the network. SSH only
from the operator, the outputs the Environment needs, accelerated NICs."""

from __future__ import annotations

import ipaddress

from stacks.cloud.spec import OUTPUT_KEYS, environment_database, environment_hosts
from tests.cloud.program_contract import WORLD, declare, each_provider


@each_provider
def test_ssh_only_from_operator(provider):
    a, spec, run = declare(provider)
    sources = a.ssh_sources(run)
    assert spec.operator_cidr in sources
    assert not WORLD & set(sources)
    # Everything else allowed in is the site's own network.
    net = ipaddress.ip_network(spec.network_cidr)
    for src in set(sources) - {spec.operator_cidr}:
        assert ipaddress.ip_network(src).subnet_of(net), src


@each_provider
def test_world_ssh_only_when_stated(provider):
    a, _, run = declare(provider, operator_cidr="0.0.0.0/0")
    assert "0.0.0.0/0" in a.ssh_sources(run)


@each_provider
def test_outputs_complete_for_environment(provider):
    _, spec, run = declare(provider)
    assert set(OUTPUT_KEYS) <= set(run.exports)
    hosts = environment_hosts(run.exports)
    assert set(hosts) == set(spec.roles)
    net = ipaddress.ip_network(spec.network_cidr)
    for role, h in hosts.items():
        assert ipaddress.ip_address(h["private_ip"]) in net
        # The operator's address is the provider's public one, never a peer address.
        assert ipaddress.ip_address(h["public_ip"]) not in net
        assert h["zone"] == spec.zone_of(role)
        assert h["data_mount"] == "/data"  # cloud-init mounts the data disk there
    assert len({h["private_ip"] for h in hosts.values()}) == len(hosts)
    db = environment_database(run.exports)
    assert db is not None and db["port"] == 5432 and db["host"]
    assert db["password"] == "s3cret-pw"
    assert {"database", "database.password"} & run.secret_exports
    assert run.exports["region"] == spec.region


def test_network_acceleration_as_in_production():
    """Azure NICs use accelerated networking, GCP the gVNIC (AWS Nitro's ENA is implicit)."""
    _, _, run = declare("azure")
    nics = run.of_type("azure-native:network:NetworkInterface")
    assert nics and all(n.inputs["enableAcceleratedNetworking"] is True for n in nics)
    _, _, run = declare("gcp")
    vms = run.of_type("gcp:compute/instance:Instance")
    assert all(v.inputs["networkInterfaces"][0]["nicType"] == "GVNIC" for v in vms)
