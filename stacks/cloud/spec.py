"""The input every cloud program receives and the outputs every program exports.

Programs are pure declarations over a `CloudSiteSpec`: what to create follows from the
spec alone, so the same spec runs under Pulumi mocks (tests, `bakeoff plan`) and under
the Automation API (real runs). The exported outputs are turned into an Environment by
`environment_from_outputs`, identically for AWS, Azure and GCP.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from core.errors import BakeoffError
from core.provider_facts import DEFAULT_DISK_TYPE as DEFAULT_DISK
from core.provider_facts import ProviderLimitError, provisioned_db_storage_gb
from stacks.cloud.k8s_common import ClusterSpec

# Tags every taggable resource carries; GCP labels use the same keys (they are valid labels).
TAG_CAMPAIGN = "bakeoff-campaign"
TAG_SITE = "bakeoff-site"
TAG_EXPIRES = "bakeoff-expires-at"
TAG_OWNER = "owner"
TAG_KEYS = (TAG_CAMPAIGN, TAG_SITE, TAG_EXPIRES, TAG_OWNER)

# Host roles: server and client in two different zones, load generators beside the client.
ROLES_FIXED = ("server", "client")

# What every program exports (pulumi.export names).
OUTPUT_KEYS = ("hosts", "database", "network", "region")

# The login user cloud-init creates on every VM (same name on every provider), holding the
# campaign's ephemeral public key.
SSH_USER = "bakeoff"

# Longest name a program gives a resource: GCP's 63 less the 8 characters ('-' and 7 hex
# digits) Pulumi's auto-naming appends (stacks/cloud/rules.py).
NAME_MAX = 55

# Default data-disk type per provider when the scenario names none.
DEFAULT_DISK_TYPE = DEFAULT_DISK  # re-exported: the programs read it from here


@dataclass(frozen=True)
class DiskSpec:
    """The data disk of each host: provider disk type, size and (where it applies) IOPS."""

    type: str  # gp3 | io2 | Premium_LRS | PremiumV2_LRS | pd-ssd | pd-balanced | hyperdisk-...
    size_gb: int
    iops: int | None = None
    throughput_mbps: int | None = None


@dataclass(frozen=True)
class DatabaseSpec:
    """A managed PostgreSQL: instance class from the equivalents table, HA when asked."""

    instance_class: str  # db.m6i.large | GP_Standard_D2ds_v5 | db-custom-2-8192
    storage_gb: int  # as provisioned (resolve applies db_storage_gb), not as asked
    ha: bool = False
    engine_version: str = "16"
    username: str = "bakeoff"
    dbname: str = "bakeoff"
    password: str = ""  # generated per campaign by the lifecycle; a Pulumi secret in programs


@dataclass(frozen=True)
class HostKey:
    """An SSH host key generated on the operator's machine and handed to the VM."""

    private_openssh: str
    public_openssh: str  # "ssh-ed25519 AAAA... comment"


@dataclass(frozen=True)
class CloudSiteSpec:
    """Everything a program declares, resolved from the scenario before any cloud call."""

    campaign_id: str
    site: str
    provider: Literal["aws", "azure", "gcp"]
    region: str
    zones: tuple[str, str]  # server zone, client zone (distinct)
    instance_type: str
    loadgen_count: int
    loadgen_instance_type: str
    disk: DiskSpec
    operator_cidr: str  # SSH is allowed from here only ("0.0.0.0/0" only when stated)
    ssh_public_key: str  # the campaign's ephemeral ed25519 key (OpenSSH format)
    host_keys: dict[str, HostKey]  # role or loadgen-N -> key handed over via cloud-init
    expires_at: str  # ISO 8601 UTC, now + ttl_minutes
    owner: str
    database: DatabaseSpec | None = None
    spot: bool = False
    image: str | None = None  # None: the provider's current Ubuntu LTS, looked up
    cloud_init: dict[str, str] = field(default_factory=dict)  # role -> user-data
    network_cidr: str = "10.42.0.0/16"
    kubernetes: ClusterSpec | None = None  # a cluster site (stacks/cloud/k8s_common.py)
    function: dict[str, Any] | None = None  # serverless: stacks/cloud/fn_common.py FunctionDeploy

    @property
    def roles(self) -> list[str]:
        return [*ROLES_FIXED, *(f"loadgen-{i}" for i in range(self.loadgen_count))]

    def zone_of(self, role: str) -> str:
        """Server in the first zone; client and load generators in the second."""
        return self.zones[0] if role == "server" else self.zones[1]

    def tags(self) -> dict[str, str]:
        return {TAG_CAMPAIGN: self.campaign_id, TAG_SITE: self.site,
                TAG_EXPIRES: self.expires_at, TAG_OWNER: self.owner}

    def labels(self) -> dict[str, str]:
        """GCP labels: lowercase letters, digits, '-' and '_', at most 63 characters."""
        return {k: gcp_label_value(v) for k, v in self.tags().items()}

    @property
    def site_label(self) -> str:
        """The site name as a name part: runs of '-' collapsed, none at either end (RDS
        identifiers refuse '--', DNS labels a trailing '-'; site names allow both)."""
        return re.sub(r"-+", "-", self.site).strip("-") or "site"

    def resource_name(self, suffix: str) -> str:
        """Short, provider-safe names that carry the site: at most NAME_MAX characters, so
        Pulumi's auto-name suffix still fits GCP's 63 (a long site name is cut and a
        digest of it added, which keeps names of different sites apart)."""
        name = f"bko-{self.site_label}-{suffix}"
        if len(name) <= NAME_MAX:
            return name
        digest = hashlib.sha256(self.site.encode()).hexdigest()[:6]
        keep = NAME_MAX - len(f"bko--{digest}-{suffix}")
        return f"bko-{self.site_label[:max(keep, 1)].rstrip('-')}-{digest}-{suffix}"


def gcp_label_value(value: str) -> str:
    """'2026-11-27T16:00:00+00:00' -> '2026-11-27t16-00-00-00-00' (GCP label rules)."""
    return re.sub(r"[^a-z0-9_-]", "-", value.lower())[:63]


def environment_hosts(outputs: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The `hosts` output: role -> {private_ip, public_ip, zone, instance_type}."""
    hosts = outputs.get("hosts")
    if not isinstance(hosts, dict) or not set(ROLES_FIXED) <= set(hosts):
        raise ValueError(f"stack outputs lack hosts for {', '.join(ROLES_FIXED)}: {hosts!r}")
    for role, h in hosts.items():
        missing = {"private_ip", "public_ip", "zone", "instance_type"} - set(h)
        if missing:
            raise ValueError(f"stack output hosts.{role} lacks {', '.join(sorted(missing))}")
    return hosts


def environment_database(outputs: dict[str, Any]) -> dict[str, Any] | None:
    """The `database` output: None, or {host, port, user, password, dbname, kind}.

    `kind` names the managed service ("rds", "azure-flexible", "cloudsql"); `host` is the
    private address the site's hosts use (never a public endpoint).
    """
    db = outputs.get("database")
    if db in (None, {}, ""):
        return None
    if not isinstance(db, dict):
        raise ValueError(f"stack output database must be a mapping, got {db!r}")
    missing = {"host", "port", "user", "password", "dbname", "kind"} - set(db)
    if missing:
        raise ValueError(f"stack output database lacks {', '.join(sorted(missing))}")
    return db


PROVENANCE_HOST_KEYS = ("id", "instance_type", "zone", "image", "image_name", "market")


def provenance(outputs: dict[str, Any]) -> dict[str, Any]:
    """What ran, as the provider reported it at `up`: per host the instance id, type,
    zone, image (id or resolved version; name where looked up) and market (spot or
    on-demand); for the database its kind, id and the zone the provider put the primary
    in. Keys a stack does not export are left out (never guessed)."""
    hosts = {role: {k: h[k] for k in PROVENANCE_HOST_KEYS if h.get(k) is not None}
             for role, h in (outputs.get("hosts") or {}).items() if isinstance(h, dict)}
    db = outputs.get("database")
    out: dict[str, Any] = {"hosts": hosts}
    if isinstance(db, dict):
        out["database"] = {k: db[k] for k in ("kind", "id", "zone") if db.get(k) is not None}
    return out


def program_for(provider: str) -> Any:
    """`stacks.cloud.<provider>.program`: every provider module exposes
    `program(spec: CloudSiteSpec) -> None`; the lifecycle and `bakeoff plan` find it here."""
    import importlib

    try:
        module = importlib.import_module(f"stacks.cloud.{provider}")
    except ModuleNotFoundError as e:
        raise ModuleNotFoundError(f"no Pulumi program for provider '{provider}' "
                                  f"(stacks/cloud/{provider}.py) or its SDK: {e}") from e
    return module.program


def program_of(spec: CloudSiteSpec) -> Any:
    """The program that declares `spec`: a cluster site's is k8s_<provider>.py and a
    function site's fn_<provider>.py (each calls the VM program for the network and the
    VMs), else the VM program."""
    if spec.kubernetes:
        return program_for(f"k8s_{spec.provider}")
    if spec.function:
        from stacks.cloud.fn_common import with_function

        return with_function(spec.provider, program_for(spec.provider))
    return program_for(spec.provider)


class SiteSpecError(BakeoffError, ValueError):
    """A cloud site asks for something its provider cannot do (e.g. IOPS on a disk type
    that sets IOPS by size); raised by programs, shown by `plan` and `run` as a message."""

    exit_code = 2


def db_storage_gb(provider: str, requested: float) -> int:
    """The managed database storage the provider provisions for `requested` GB (the rule in
    core/provider_facts.py, which the TCO prices too); too large is a SiteSpecError."""
    try:
        return provisioned_db_storage_gb(provider, requested)
    except ProviderLimitError as e:
        raise SiteSpecError(str(e)) from None
