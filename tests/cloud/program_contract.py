"""One contract for every cloud program, run under Pulumi mocks: the shared part.

Each provider's real program declares a site; the same assertions hold for all: two
distinct zones, the instance types asked for, SSH never open to the world unless the
scenario says so, disks encrypted at rest, the bakeoff tags (labels on GCP) on everything
that takes them, a private database, outputs complete for the Environment, spot when
asked. A provider's `Adapter` only says where its resources keep each fact. The tests are
tests/cloud/test_contract_*.py, one file per concern (hosts, network, storage).
"""

from __future__ import annotations

import base64
import functools
import importlib
from dataclasses import replace
from typing import Any

import pytest

from stacks.cloud.gc_common import tags_from_description
from stacks.cloud.rules import unwrap_secrets
from stacks.cloud.spec import (
    DEFAULT_DISK_TYPE,
    CloudSiteSpec,
    DatabaseSpec,
    DiskSpec,
    HostKey,
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


# each provider in turn: a test takes `provider` ("aws", "azure", "gcp")
each_provider = pytest.mark.parametrize("provider", PROVIDERS)
