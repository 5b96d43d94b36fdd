"""`bakeoff run --canary` / `bakeoff doctor --canary`: prove each cloud site in minutes.

The canary of a scenario is the cheapest working version of each of its cloud sites:
same provider, region, zones, image and network rules; the cheapest type of the catalog
of the same family and architecture with at least 2 vCPUs (Azure's accelerated
networking needs two); no load generators, no database, a 10 GB data disk, on-demand. It
provisions them side by side, waits for SSH and cloud-init, runs ping from the client to
the server (two VMs: ping needs both ends, and the programs put them in two zones), and
destroys them. Credentials, quotas, images, cloud-init and networking are proven before
an hour-long campaign starts, for minutes and cents.
"""

from __future__ import annotations

from typing import Any

from core.errors import BakeoffError
from core.scenario import Campaign, CloudSite, WorkloadSpec

CANARY_PING = {"count": 5, "interval_s": 0.2}
CANARY_DISK_GB = 10
CANARY_TTL_MINUTES = 60
MIN_VCPUS = 2


def cheapest_type(site: CloudSite, catalog: Any = None) -> str:
    """The cheapest on-demand type of the site's family and architecture in its region."""
    from scoring.catalog_load import load_catalog
    from scoring.equivalents import site_compute_row

    catalog = catalog or load_catalog()
    row = site_compute_row(site, catalog)
    rows = [r for r in catalog.compute_rows(site.provider, site.region)
            if r.family == row.family and r.arch == row.arch and r.vcpus >= MIN_VCPUS]
    if not rows:
        return row.instance_type
    return min(rows, key=lambda r: (r.ondemand_usd_per_hour, r.vcpus,
                                    r.instance_type)).instance_type


def canary_campaign(campaign: Campaign, catalog: Any = None) -> Campaign:
    """The canary of `campaign`: its cloud sites at their cheapest, one ping each."""
    sites = []
    for site in campaign.sites:
        if not isinstance(site, CloudSite):
            continue
        sites.append(site.model_copy(update={
            "instance_type": cheapest_type(site, catalog), "size": None, "loadgen": 0,
            "loadgen_instance_type": None, "database": None, "disk_gb": CANARY_DISK_GB,
            "disk_type": None, "disk_iops": None, "disk_throughput_mbps": None,
            "spot": False, "price_override": None}))
    if not sites:
        raise BakeoffError("--canary: the scenario has no cloud site (aws, azure, gcp) to "
                           "try out")
    name = f"{campaign.name[:40]}-canary"
    return campaign.model_copy(update={
        "name": name, "sites": sites, "repetitions": 1, "requirements": [], "criteria": [],
        "workloads": [WorkloadSpec(name="ping", params=dict(CANARY_PING))],
        "ttl_minutes": min(campaign.ttl_minutes, CANARY_TTL_MINUTES)})


def describe(canary: Campaign) -> list[str]:
    return [f"{s.name}: {s.provider} {s.region} {s.instance_type} x2 (zones "
            f"{', '.join(s.zones[:2])})" for s in canary.sites if isinstance(s, CloudSite)]
