"""GCP leftovers in one project: Cloud SQL, instances, disks, addresses, then the network.

Function sites add Cloud Run services (first, awaited) and their source buckets:
stacks/cloud/gc_fn_gcp.py.

Labelled resources are found with a label filter; firewalls, subnetworks and networks
take no labels, so the program writes the same tags into their description and only
those are ever considered (the project's other networks are never listed as leftovers).
Compute goes through google-cloud-compute; Cloud SQL, which that library does not cover,
through the SQL Admin REST API with the same credentials. A network whose Cloud SQL peering
is still being torn down fails this sweep and goes in the next one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from stacks.cloud import gc_fn_gcp
from stacks.cloud.gc_common import Leftover, tags_from_description
from stacks.cloud.spec import TAG_CAMPAIGN, gcp_label_value

LABEL_FILTER = f"labels.{TAG_CAMPAIGN}:*"
SQL_API = "https://sqladmin.googleapis.com"
WAIT_S = 600  # deletions the next ones depend on are awaited this long


def _when(stamp: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None
    except ValueError:
        return None


def _scope(key: str) -> str:
    """'zones/europe-west1-b' -> 'europe-west1-b'."""
    return key.rsplit("/", 1)[-1]


class GcpInventory:
    """Bakeoff resources of one project, in the order they can be deleted."""

    provider = "gcp"

    @staticmethod
    def campaign_key(campaign_id: str) -> str:
        """As the labels store it (lowercase, 63 characters); descriptions keep the id as
        written, and this maps both to the same key."""
        return gcp_label_value(campaign_id)

    def __init__(self, project: str, credentials: Any = None,
                 client_options: dict[str, str] | None = None, sql_session: Any = None,
                 sql_base_url: str = SQL_API, run_base_url: str | None = None,
                 storage_base_url: str | None = None):
        from google.cloud import compute_v1

        self.project = project
        self.c = compute_v1
        kw = {"credentials": credentials, "client_options": client_options}
        self.instances = compute_v1.InstancesClient(**kw)
        self.disks = compute_v1.DisksClient(**kw)
        self.addresses = compute_v1.AddressesClient(**kw)
        self.global_addresses = compute_v1.GlobalAddressesClient(**kw)
        self.firewalls = compute_v1.FirewallsClient(**kw)
        self.subnetworks = compute_v1.SubnetworksClient(**kw)
        self.networks = compute_v1.NetworksClient(**kw)
        if sql_session is None:
            import google.auth
            from google.auth.transport.requests import AuthorizedSession

            creds = credentials or google.auth.default(
                scopes=["https://www.googleapis.com/auth/cloud-platform"])[0]
            sql_session = AuthorizedSession(creds)
        self.sql = sql_session
        self.sql_url = f"{sql_base_url.rstrip('/')}/v1/projects/{project}/instances"
        self._peerings: dict[str, list[str]] = {}
        # function sites (gc_fn_gcp): Cloud Run and Storage REST on the same session
        # (an overridden SQL endpoint, an emulator or a test server, serves them too, so
        # no call leaves for the real APIs unless every endpoint is the real one)
        same = None if sql_base_url == SQL_API else sql_base_url
        self.run_url = run_base_url or same or gc_fn_gcp.RUN_API
        self.storage_url = storage_base_url or same or gc_fn_gcp.STORAGE_API
        self.op_wait: dict[str, float] = {}  # tests shorten the Operation polling

    def leftovers(self) -> Iterable[Leftover]:
        # Cloud Run first: Direct VPC egress holds addresses in the site's subnetwork
        yield from gc_fn_gcp.cloud_run_leftovers(self.sql, self.run_url, self.project)
        yield from gc_fn_gcp.bucket_leftovers(self.sql, self.storage_url, self.project)
        yield from self._sql_instances()
        c, p = self.c, self.project
        for kind, client, request in (
                ("instance", self.instances, c.AggregatedListInstancesRequest),
                ("disk", self.disks, c.AggregatedListDisksRequest),
                ("address", self.addresses, c.AggregatedListAddressesRequest)):
            for scope, listing in client.aggregated_list(
                    request=request(project=p, filter=LABEL_FILTER)):
                for r in getattr(listing, f"{kind}es" if kind == "address" else f"{kind}s"):
                    yield Leftover("gcp", kind, r.name, r.name, dict(r.labels),
                                   _scope(scope), _when(r.creation_timestamp))
        for r in self.global_addresses.list(
                request=c.ListGlobalAddressesRequest(project=p, filter=LABEL_FILTER)):
            yield Leftover("gcp", "global-address", r.name, r.name, dict(r.labels), "global",
                           _when(r.creation_timestamp))
        for r in self.firewalls.list(project=self.project):
            yield from self._described("firewall", r, "global")
        for scope, listing in self.subnetworks.aggregated_list(project=self.project):
            for r in listing.subnetworks:
                yield from self._described("subnetwork", r, _scope(scope))
        for r in self.networks.list(project=self.project):
            self._peerings[r.name] = [p.name for p in r.peerings]
            yield from self._described("network", r, "global")

    def _described(self, kind: str, r: Any, location: str) -> Iterable[Leftover]:
        tags = tags_from_description(r.description)
        if TAG_CAMPAIGN in tags:
            yield Leftover("gcp", kind, r.name, r.name, tags, location,
                           _when(r.creation_timestamp))

    def _sql_instances(self) -> Iterable[Leftover]:
        token = None
        while True:
            params = {"filter": f"settings.userLabels.{TAG_CAMPAIGN}:*"}
            if token:
                params["pageToken"] = token
            resp = self.sql.get(self.sql_url, params=params, timeout=60)
            resp.raise_for_status()
            body = resp.json()
            for i in body.get("items", []):
                labels = i.get("settings", {}).get("userLabels", {})
                yield Leftover("gcp", "sql-instance", i["name"], i["name"], labels,
                               i.get("region", ""), _when(i.get("createTime")))
            token = body.get("nextPageToken")
            if not token:
                return

    def delete(self, item: Leftover) -> None:
        p, loc, name = self.project, item.location, item.name
        match item.kind:
            case "cloud-run-service":  # awaited: its subnetwork goes later in the sweep
                gc_fn_gcp.delete_cloud_run(self.sql, self.run_url, p, loc, name,
                                           **self.op_wait)
            case "bucket":
                gc_fn_gcp.delete_bucket(self.sql, self.storage_url, name)
            case "sql-instance":
                self.sql.delete(f"{self.sql_url}/{name}", timeout=60).raise_for_status()
            case "instance":  # wait: its data disk is in use until it is gone
                self.instances.delete(project=p, zone=loc, instance=name).result(WAIT_S)
            case "disk":
                self.disks.delete(project=p, zone=loc, disk=name)
            case "address":
                self.addresses.delete(project=p, region=loc, address=name)
            case "global-address":
                self.global_addresses.delete(project=p, address=name)
            case "firewall":  # wait: the network cannot go before its rules and subnets
                self.firewalls.delete(project=p, firewall=name).result(WAIT_S)
            case "subnetwork":
                self.subnetworks.delete(project=p, region=loc, subnetwork=name).result(WAIT_S)
            case "network":
                # The Cloud SQL peering keeps a network alive; drop it first.
                for peering in self._peerings.get(name, []):
                    self.networks.remove_peering(
                        project=p, network=name,
                        networks_remove_peering_request_resource=(
                            self.c.NetworksRemovePeeringRequest(name=peering)))
                self.networks.delete(project=p, network=name)
            case _:
                raise ValueError(f"unknown GCP leftover kind {item.kind}")
