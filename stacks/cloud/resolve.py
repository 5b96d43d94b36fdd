"""Scenario cloud site -> CloudSiteSpec: every decision a program needs, made up front.

The instance type must already be resolved (a `size:` is turned into a type by the
catalog in the application layer, see bakeoff/cloudsites.py), so this module needs no
price data. Secrets (campaign key, host keys, database password) come from the caller:
real runs generate them per campaign (stacks/cloud/secrets.py); `bakeoff plan` uses
placeholders.
"""

from __future__ import annotations

import datetime as dt
import getpass
import ipaddress
import os

from core.disk_rule import plan_disk
from core.errors import PrerequisiteError
from core.scenario import Campaign, CloudSite
from stacks.cloud.fn_common import function_deploy
from stacks.cloud.k8s_common import ClusterSpec
from stacks.cloud.spec import (
    DEFAULT_DISK_TYPE,
    CloudSiteSpec,
    DatabaseSpec,
    DiskSpec,
    HostKey,
    db_storage_gb,
)

# Non-burstable defaults when the scenario names no database tier (2 vCPU, general purpose).
DEFAULT_DB_CLASS = {"aws": "db.m6i.large", "azure": "GP_Standard_D2ds_v5",
                    "gcp": "db-custom-2-8192"}
OPEN_WORLD = ("0.0.0.0/0", "::/0")
OWNER_ENV = "BAKEOFF_OWNER"
CIDR_ENV = "BAKEOFF_OPERATOR_CIDR"


def site_zones(site: CloudSite) -> tuple[str, str]:
    """Server zone, client zone: two distinct zones (a one-zone site is refused)."""
    if len(site.zones) < 2 or site.zones[0] == site.zones[1]:
        raise PrerequisiteError(f"site '{site.name}': zones must name two different zones "
                                f"(server, client); got {site.zones}")
    return site.zones[0], site.zones[1]


def instance_type_of(site: CloudSite) -> str:
    if not site.instance_type:
        raise PrerequisiteError(f"site '{site.name}': size was not resolved to an instance "
                                "type (the catalog does this before provisioning)")
    return site.instance_type


def operator_cidr(site: CloudSite, detected: str | None) -> tuple[str, str | None]:
    """(cidr, warning). The scenario's ssh_cidr wins; else $BAKEOFF_OPERATOR_CIDR; else the
    detected public address as a /32. The open world only when written down."""
    if site.ssh_cidr:
        warn = (f"site '{site.name}': ssh_cidr {site.ssh_cidr} lets anyone on the internet "
                "try to log in (key authentication only)"
                if site.ssh_cidr in OPEN_WORLD else None)
        return site.ssh_cidr, warn
    env = os.environ.get(CIDR_ENV)
    if env:
        return str(ipaddress.ip_network(env, strict=False)), None
    if detected:
        return str(ipaddress.ip_network(f"{detected}/32" if "/" not in detected else detected,
                                        strict=False)), None
    raise PrerequisiteError(
        f"site '{site.name}': the operator's public address could not be detected; set "
        f"ssh_cidr in the scenario or {CIDR_ENV}=203.0.113.7/32")


def build_spec(site: CloudSite, campaign: Campaign, campaign_id: str, *, cidr: str,
               ssh_public_key: str, host_keys: dict[str, HostKey], db_password: str,
               cloud_init: dict[str, str] | None = None,
               now: dt.datetime | None = None) -> CloudSiteSpec:
    """The spec for one site; `now` fixes the expiry tag (tests, plan golden files)."""
    itype = instance_type_of(site)
    now = now or dt.datetime.now(dt.UTC)
    expires = (now + dt.timedelta(minutes=campaign.ttl_minutes)).isoformat(timespec="seconds")
    db = None
    if site.database is not None:
        db = DatabaseSpec(instance_class=site.database.instance or DEFAULT_DB_CLASS[site.provider],
                          storage_gb=db_storage_gb(site.provider, site.database.storage_gb),
                          ha=site.database.ha,
                          password=db_password)
    # core/disk_rule.py: the size and IOPS to create, the same the TCO prices
    plan = plan_disk(site.disk_type or DEFAULT_DISK_TYPE[site.provider], site.disk_gb,
                     site.disk_iops, site.disk_throughput_mbps)
    disk = DiskSpec(type=plan.type, size_gb=plan.size_gb, iops=plan.send_iops,
                    throughput_mbps=plan.send_throughput_mbps)
    return CloudSiteSpec(
        campaign_id=campaign_id, site=site.name, provider=site.provider, region=site.region,
        zones=site_zones(site), instance_type=itype, loadgen_count=site.loadgen,
        loadgen_instance_type=site.loadgen_instance_type or itype, disk=disk,
        operator_cidr=cidr, ssh_public_key=ssh_public_key, host_keys=host_keys,
        expires_at=expires, owner=os.environ.get(OWNER_ENV) or getpass.getuser(),
        database=db, spot=site.spot, image=site.image, cloud_init=cloud_init or {},
        kubernetes=ClusterSpec.from_site(site.kubernetes),
        function=function_deploy(site, campaign_id))


def stack_name(campaign_id: str, site: str) -> str:
    """One Pulumi stack per (campaign, site): the key that makes `up` idempotent."""
    return f"{campaign_id}--{site}"


def sample_spec(site: CloudSite, campaign: Campaign) -> CloudSiteSpec:
    """The spec a run would build, with values of the run's format where the run draws or
    detects them (campaign id with the longest stamp, expiry, generated password, keys,
    cloud-init): what the provider rules (stacks/cloud/rules.py) judge before any `up`."""
    from dataclasses import replace

    from stacks.cloud.cloudinit import tools_cloud_init
    from stacks.cloud.passwords import new_db_password

    start = dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    campaign_id = f"{campaign.name}-{start.strftime('%Y%m%dT%H%M%SZ')}-a1b2c3"
    key = HostKey(private_openssh="-----BEGIN OPENSSH PRIVATE KEY-----\n" + "A" * 400
                  + "\n-----END OPENSSH PRIVATE KEY-----\n",
                  public_openssh="ssh-ed25519 " + "A" * 68 + " bakeoff-host")
    spec = build_spec(site, campaign, campaign_id, cidr=site.ssh_cidr or "203.0.113.7/32",
                      ssh_public_key="ssh-ed25519 " + "A" * 68 + " bakeoff",
                      host_keys={}, db_password=new_db_password(), now=start)
    return replace(spec, host_keys={r: key for r in spec.roles},
                   cloud_init={r: tools_cloud_init(spec.resource_name(r)) for r in spec.roles})
