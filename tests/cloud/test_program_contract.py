"""One contract for every cloud program, run under Pulumi mocks.

Each provider's real program declares a site; the same assertions hold for all: two
distinct zones, the instance types asked for, SSH never open to the world unless the
scenario says so, disks encrypted at rest, the bakeoff tags (labels on GCP) on everything
that takes them, a private database, outputs complete for the Environment, spot when
asked. A provider's `Adapter` only says where its resources keep each fact.
"""

from __future__ import annotations

import base64
import functools
import importlib
import ipaddress
from dataclasses import replace
from typing import Any

import pytest

from stacks.cloud.gc_common import tags_from_description
from stacks.cloud.rules import SECRET_SIG, unwrap_secrets
from stacks.cloud.spec import (
    DEFAULT_DISK_TYPE,
    OUTPUT_KEYS,
    TAG_KEYS,
    CloudSiteSpec,
    DatabaseSpec,
    DiskSpec,
    HostKey,
    SiteSpecError,
    environment_database,
    environment_hosts,
)
from tests.cloud.pulumi_mocks import Resource, Run, input_params, run_program

DESCRIBED = ("gcp:compute/network:Network", "gcp:compute/subnetwork:Subnetwork",
             "gcp:compute/firewall:Firewall")
WORLD = {"0.0.0.0/0", "*", "Internet", "Any", "::/0"}


class Adapter:
    """Where one provider's resources keep the facts the contract checks."""

    provider: str
    region: str
    zones: tuple[str, str]
    instance_type: str
    db_class: str
    vm_type: str
    disk_types: tuple[str, ...]
    tag_param: str = "tags"

    def taggable(self, r: Resource) -> bool:
        return not r.type.startswith("pulumi:") and self.tag_param in input_params(r.type)

    def data_disks(self, run: Run) -> list[dict[str, Any]]:
        """Each host's data disk: size_gb, iops, encrypted."""
        return [{"size_gb": d.inputs.get("diskSizeGB", d.inputs.get("size")),
                 "iops": d.inputs.get("diskIOPSReadWrite", d.inputs.get("provisionedIops")),
                 "encrypted": self.disk_encrypted(d)}
                for t in self.disk_types for d in run.of_type(t)]

    def vm_zone(self, r: Resource) -> str: ...
    def vm_size(self, r: Resource) -> str: ...
    def user_data(self, r: Resource) -> str: ...
    def ssh_sources(self, run: Run) -> list[str]: ...
    def disk_encrypted(self, r: Resource) -> bool: ...
    def tags_of(self, r: Resource) -> dict[str, str] | None: ...
    def db_private(self, run: Run) -> bool: ...
    def db_ha(self, run: Run) -> bool: ...
    def vm_spot(self, r: Resource) -> bool: ...


def _covers_22(ports: str) -> bool:
    if ports == "*":
        return True
    low, _, high = ports.partition("-")
    return int(low) <= 22 <= int(high or low)


class Aws(Adapter):
    provider, region, zones = "aws", "eu-west-1", ("eu-west-1a", "eu-west-1b")
    instance_type, db_class = "c6i.large", "db.m6i.large"
    vm_type = "aws:ec2/instance:Instance"
    disk_types = ()
    fixed_iops_type, iops_type = None, "io2"

    def vm_zone(self, r):
        return r.inputs["availabilityZone"]

    def vm_size(self, r):
        return r.inputs["instanceType"]

    def user_data(self, r):
        return unwrap_secrets(r.inputs["userData"])

    def ssh_sources(self, run):
        out = []
        for sg in run.of_type("aws:ec2/securityGroup:SecurityGroup"):
            for rule in sg.inputs.get("ingress", []):
                if rule["protocol"] in ("-1", "all") or (
                        rule["protocol"] in ("tcp", "6")
                        and rule["fromPort"] <= 22 <= rule["toPort"]):
                    out.extend(rule.get("cidrBlocks", []))
        return out

    def data_disks(self, run):
        # EBS volumes are declared inside each instance (root and data device).
        return [{"size_gb": e["volumeSize"], "iops": e.get("iops"),
                 "encrypted": e.get("encrypted") is True and vm.inputs["rootBlockDevice"][
                     "encrypted"] is True}
                for vm in run.of_type(self.vm_type) for e in vm.inputs["ebsBlockDevices"]]

    def tags_of(self, r):
        return r.inputs.get("tags")

    def _rds(self, run):
        (rds,) = run.of_type("aws:rds/instance:Instance")
        return rds.inputs

    def db_private(self, run):
        rds = self._rds(run)
        return rds["publiclyAccessible"] is False and bool(rds["dbSubnetGroupName"])

    def db_ha(self, run):
        return self._rds(run)["multiAz"] is True

    def vm_spot(self, r):
        return (r.inputs.get("instanceMarketOptions") or {}).get("marketType") == "spot"


class Azure(Adapter):
    provider, region, zones = "azure", "westeurope", ("1", "2")
    instance_type, db_class = "Standard_D2s_v5", "GP_Standard_D2ds_v5"
    vm_type = "azure-native:compute:VirtualMachine"
    disk_types = ("azure-native:compute:Disk",)
    fixed_iops_type, iops_type = "Premium_LRS", "PremiumV2_LRS"

    def vm_zone(self, r):
        return r.inputs["zones"][0]

    def vm_size(self, r):
        return r.inputs["hardwareProfile"]["vmSize"]

    def user_data(self, r):
        return base64.b64decode(unwrap_secrets(r.inputs["osProfile"])["customData"]).decode()

    def ssh_sources(self, run):
        out = []
        for nsg in run.of_type("azure-native:network:NetworkSecurityGroup"):
            for rule in nsg.inputs.get("securityRules", []):
                if (rule["access"] == "Allow" and rule["direction"] == "Inbound"
                        and _covers_22(rule.get("destinationPortRange", ""))):
                    out.append(rule["sourceAddressPrefix"])
        return out

    def disk_encrypted(self, r):
        # Azure encrypts every managed disk; the program states the platform-key default.
        return r.inputs.get("encryption", {}).get("type") in (
            "EncryptionAtRestWithPlatformKey", "EncryptionAtRestWithCustomerKey")

    def tags_of(self, r):
        return r.inputs.get("tags")

    def _server(self, run):
        (server,) = run.of_type("azure-native:dbforpostgresql:Server")
        return server.inputs

    def db_private(self, run):
        net = self._server(run)["network"]
        return net["publicNetworkAccess"] == "Disabled" and bool(net["delegatedSubnetResourceId"])

    def db_ha(self, run):
        return self._server(run)["highAvailability"]["mode"] == "ZoneRedundant"

    def vm_spot(self, r):
        return (r.inputs.get("priority") == "Spot" and r.inputs.get("evictionPolicy") == "Delete")


class Gcp(Adapter):
    provider, region, zones = "gcp", "europe-west1", ("europe-west1-b", "europe-west1-c")
    instance_type, db_class = "n2-standard-2", "db-custom-2-8192"
    vm_type = "gcp:compute/instance:Instance"
    disk_types = ("gcp:compute/disk:Disk",)
    tag_param = "labels"
    fixed_iops_type, iops_type = "pd-balanced", "hyperdisk-balanced"

    def vm_zone(self, r):
        return r.inputs["zone"]

    def vm_size(self, r):
        return r.inputs["machineType"]

    def user_data(self, r):
        return unwrap_secrets(r.inputs["metadata"])["user-data"]

    def ssh_sources(self, run):
        out = []
        for fw in run.of_type("gcp:compute/firewall:Firewall"):
            for allow in fw.inputs.get("allows", []):
                if allow["protocol"] in ("tcp", "all") and (
                        not allow.get("ports") or "22" in allow["ports"]):
                    out.extend(fw.inputs.get("sourceRanges", []))
        return out

    def disk_encrypted(self, r):
        # GCP encrypts every persistent disk with Google-managed keys unless a key is given;
        # nothing can turn encryption off, so "no key or a customer key" is encrypted.
        key = r.inputs.get("diskEncryptionKey")
        return key is None or bool(key.get("kmsKeySelfLink") or key.get("rawKey"))

    def taggable(self, r):
        # Networks, subnetworks and firewalls take no labels: their description holds them.
        return (super().taggable(r) or r.type in DESCRIBED
                or r.type == "gcp:sql/databaseInstance:DatabaseInstance")

    def tags_of(self, r):
        if r.type == "gcp:sql/databaseInstance:DatabaseInstance":
            return r.inputs["settings"].get("userLabels")
        if r.type in DESCRIBED:
            return tags_from_description(r.inputs.get("description"))
        return r.inputs.get("labels")

    def _sql(self, run):
        (sql,) = run.of_type("gcp:sql/databaseInstance:DatabaseInstance")
        return sql.inputs["settings"]

    def db_private(self, run):
        ip = self._sql(run)["ipConfiguration"]
        return ip["ipv4Enabled"] is False and bool(ip["privateNetwork"])

    def db_ha(self, run):
        return self._sql(run)["availabilityType"] == "REGIONAL"

    def vm_spot(self, r):
        s = r.inputs.get("scheduling", {})
        return (s.get("provisioningModel") == "SPOT"
                and s.get("instanceTerminationAction") == "DELETE")


ADAPTERS: dict[str, Adapter] = {"aws": Aws(), "azure": Azure(), "gcp": Gcp()}
PROVIDERS = list(ADAPTERS)
HOST_KEYS = {role: HostKey(f"-----BEGIN OPENSSH PRIVATE KEY-----\n{role}\n",
                           f"ssh-ed25519 AAAAC3Nza{role} {role}")
             for role in ("server", "client", "loadgen-0", "loadgen-1")}


def make_spec(a: Adapter, **changes: Any) -> CloudSiteSpec:
    spec = CloudSiteSpec(
        campaign_id="c20261127a", site="web", provider=a.provider, region=a.region,
        zones=a.zones, instance_type=a.instance_type, loadgen_count=2,
        loadgen_instance_type=a.instance_type + "-lg", disk=DiskSpec(
            DEFAULT_DISK_TYPE[a.provider], 100),
        operator_cidr="203.0.113.7/32", ssh_public_key="ssh-ed25519 AAAAoperator op",
        host_keys=HOST_KEYS, expires_at="2026-11-27T18:00:00+00:00", owner="ana",
        database=DatabaseSpec(a.db_class, 64, password="s3cret-pw"))
    return replace(spec, **changes)


def declare(provider: str, **changes: Any
            ) -> tuple[Adapter, CloudSiteSpec, Run]:
    """One mock run per distinct spec: runs are pure, so tests share them."""
    a = ADAPTERS[provider]
    return a, make_spec(a, **changes), _run(provider, tuple(sorted(changes.items())))


@functools.cache
def _run(provider: str, changes: tuple[tuple[str, Any], ...]) -> Run:
    spec = make_spec(ADAPTERS[provider], **dict(changes))
    program = importlib.import_module(f"stacks.cloud.{provider}").program
    return run_program(program, spec)


@pytest.fixture(params=PROVIDERS)
def provider(request) -> str:
    return request.param


def test_distinct_zones_and_requested_types(provider):
    a, spec, run = declare(provider)
    vms = {r.name.removeprefix(f"bko-{spec.site}-"): r for r in run.of_type(a.vm_type)}
    assert set(vms) == set(spec.roles)
    assert a.vm_zone(vms["server"]) != a.vm_zone(vms["client"])
    assert {a.vm_zone(vms[r]) for r in spec.roles} <= {str(z) for z in spec.zones} | {
        z.rsplit("-", 1)[-1] for z in spec.zones}
    assert a.vm_size(vms["server"]) == a.vm_size(vms["client"]) == spec.instance_type
    assert a.vm_size(vms["loadgen-1"]) == spec.loadgen_instance_type
    for role in spec.roles:  # the host key travels in user-data, per host
        assert spec.host_keys[role].public_openssh in a.user_data(vms[role])
    assert not any(a.vm_spot(v) for v in vms.values())


def test_ssh_only_from_operator(provider):
    a, spec, run = declare(provider)
    sources = a.ssh_sources(run)
    assert spec.operator_cidr in sources
    assert not WORLD & set(sources)
    # Everything else allowed in is the site's own network.
    net = ipaddress.ip_network(spec.network_cidr)
    for src in set(sources) - {spec.operator_cidr}:
        assert ipaddress.ip_network(src).subnet_of(net), src


def test_world_ssh_only_when_stated(provider):
    a, _, run = declare(provider, operator_cidr="0.0.0.0/0")
    assert "0.0.0.0/0" in a.ssh_sources(run)


def test_disks_encrypted_and_sized(provider):
    a, spec, run = declare(provider)
    disks = a.data_disks(run)
    assert len(disks) == len(spec.roles)
    assert all(d["encrypted"] for d in disks)
    assert {d["size_gb"] for d in disks} == {spec.disk.size_gb}


def test_tags_on_everything_taggable(provider):
    a, spec, run = declare(provider)
    expected = spec.labels() if a.tag_param == "labels" else spec.tags()
    taggable = [r for r in run.resources if a.taggable(r)]
    assert len(taggable) >= len(spec.roles) * 3
    for r in taggable:
        tags = a.tags_of(r) or {}
        assert {k: tags.get(k) for k in TAG_KEYS} == expected, (r.type, r.name)


def test_database_private_with_ha_when_asked(provider):
    a, spec, run = declare(provider)
    assert a.db_private(run) and not a.db_ha(run)
    a, spec, run = declare(provider,
                           database=replace(spec.database, ha=True))
    assert a.db_private(run) and a.db_ha(run)


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


def test_no_database_exports_none(provider):
    _, _, run = declare(provider, database=None)
    assert environment_database(run.exports) is None
    assert not [r for r in run.resources if "sql" in r.type.lower() or "postgres" in r.type]


def test_spot_when_asked(provider):
    a, spec, run = declare(provider, spot=True)
    vms = run.of_type(a.vm_type)
    assert len(vms) == len(spec.roles) and all(a.vm_spot(v) for v in vms)


def test_provisioned_iops_only_where_the_disk_type_allows(provider):
    a = ADAPTERS[provider]
    if a.fixed_iops_type:  # AWS has none among its defaults: gp3 takes IOPS
        with pytest.raises(SiteSpecError, match="IOPS"):
            declare(provider, disk=DiskSpec(a.fixed_iops_type, 100, iops=5000))
    _, spec, run = declare(provider, disk=DiskSpec(a.iops_type, 100, 5000, 250))
    disks = a.data_disks(run)
    assert len(disks) == len(spec.roles) and {d["iops"] for d in disks} == {5000}


def test_network_acceleration_as_in_production():
    """Azure NICs use accelerated networking, GCP the gVNIC (AWS Nitro's ENA is implicit)."""
    _, _, run = declare("azure")
    nics = run.of_type("azure-native:network:NetworkInterface")
    assert nics and all(n.inputs["enableAcceleratedNetworking"] is True for n in nics)
    _, _, run = declare("gcp")
    vms = run.of_type("gcp:compute/instance:Instance")
    assert all(v.inputs["networkInterfaces"][0]["nicType"] == "GVNIC" for v in vms)


def test_azure_database_storage_rounds_up_to_a_size_azure_sells():
    from stacks.cloud.spec import db_storage_gb

    _, _, run = declare("azure")  # 64 GiB asked: sold as is
    (server,) = run.of_type("azure-native:dbforpostgresql:Server")
    assert server.inputs["storage"]["storageSizeGB"] == 64
    assert [db_storage_gb("azure", n) for n in (1, 32, 33, 100, 4000)] == [
        32, 32, 64, 128, 4096]
    with pytest.raises(SiteSpecError, match="at most 32767 GiB"):
        db_storage_gb("azure", 40000)


# The property of each VM that carries the host's private key (in its user-data).
HOST_KEY_PROPERTY = {"aws": "userData", "azure": "osProfile", "gcp": "metadata"}


def test_host_keys_travel_as_secrets(provider):
    """Encrypted in the Pulumi checkpoint: the property holding the user-data is a secret."""
    a, spec, run = declare(provider)
    for vm in run.of_type(a.vm_type):
        value = vm.inputs[HOST_KEY_PROPERTY[provider]]
        assert isinstance(value, dict) and SECRET_SIG in value, vm.name
        role = vm.name.removeprefix(f"bko-{spec.site}-")
        import yaml

        keys = yaml.safe_load(a.user_data(vm))["ssh_keys"]  # inside the secret
        assert keys["ed25519_private"] == spec.host_keys[role].private_openssh


def test_provenance_exported(provider):
    """Instance id, image and market per host, and the database primary's zone, as the
    provider reports them (mocks compute some as None; the keys must be exported)."""
    from stacks.cloud.spec import provenance

    _, spec, run = declare(provider, spot=True)
    for role, h in run.exports["hosts"].items():
        assert {"id", "image", "market"} <= set(h), role
        assert h["market"] == "spot"
    assert "zone" in run.exports["database"] and "id" in run.exports["database"]
    prov = provenance(run.exports)
    assert set(prov["hosts"]) == set(spec.roles)
    assert prov["hosts"]["server"]["instance_type"] == spec.instance_type
