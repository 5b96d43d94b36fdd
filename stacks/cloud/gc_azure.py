"""Azure leftovers: bakeoff resource groups, and tagged resources that sit outside them.

A site lives in one tagged resource group, so deleting the group removes everything in
it; its age is that of its oldest resource. Tagged resources in other groups (a group
deleted by hand, a resource moved) are listed one by one: VMs first, then function apps
(awaited), then Flex Consumption plans, then the rest.
Needs azure-identity and azure-mgmt-resource/azure-mgmt-compute (the `azure` extra).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from stacks.cloud.gc_common import Leftover
from stacks.cloud.spec import TAG_CAMPAIGN

TAG_FILTER = f"tagName eq '{TAG_CAMPAIGN}'"
VM_TYPE = "Microsoft.Compute/virtualMachines"
DISK_TYPE = "Microsoft.Compute/disks"
SITE_TYPE = "Microsoft.Web/sites"  # a function app (kind functionapp,linux)
PLAN_TYPE = "Microsoft.Web/serverfarms"  # its Flex Consumption plan (FC1)
STRAY_ORDER = {VM_TYPE.lower(): 0, SITE_TYPE.lower(): 1, PLAN_TYPE.lower(): 2}


def _rg_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    lower = [p.lower() for p in parts]
    return parts[lower.index("resourcegroups") + 1] if "resourcegroups" in lower else ""


def _aware(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


class AzureInventory:
    """Resource groups and stray resources carrying the bakeoff-campaign tag."""

    provider = "azure"

    def __init__(self, subscription_id: str, credential: Any = None, **client_kwargs: Any):
        from azure.mgmt.compute import ComputeManagementClient
        from azure.mgmt.resource.resources import ResourceManagementClient

        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        self.resources = ResourceManagementClient(credential, subscription_id, **client_kwargs)
        self.compute = ComputeManagementClient(credential, subscription_id, **client_kwargs)
        self._api_versions: dict[str, str] = {}

    def leftovers(self) -> Iterable[Leftover]:
        groups = {g.name.lower(): g for g in self.resources.resource_groups.list(
            filter=TAG_FILTER)}
        oldest: dict[str, datetime] = {}
        strays = []
        for r in self.resources.resources.list(filter=TAG_FILTER, expand="createdTime"):
            rg = _rg_of(r.id).lower()
            created = _aware(getattr(r, "created_time", None))
            if rg in groups:
                if created and (rg not in oldest or created < oldest[rg]):
                    oldest[rg] = created
            else:
                strays.append(Leftover("azure", r.type, r.id, r.name, dict(r.tags or {}),
                                       r.location or "", created))
        for key, g in groups.items():
            yield Leftover("azure", "resource-group", g.id, g.name, dict(g.tags or {}),
                           g.location or "", oldest.get(key))
        # VMs go before the disks and NICs they hold; function apps before the Flex plan
        # that hosts them (a plan with an app is refused), the rest after.
        yield from sorted(strays, key=lambda s: STRAY_ORDER.get(s.kind.lower(), len(STRAY_ORDER)))

    def delete(self, item: Leftover) -> None:
        if item.kind == "resource-group":
            # Deleting a group takes minutes; start it and move on (polling off).
            self.resources.resource_groups.begin_delete(item.name, polling=False)
        elif item.kind.lower() == VM_TYPE.lower():
            # Wait: its NIC and disks cannot go while the VM holds them.
            self.compute.virtual_machines.begin_delete(_rg_of(item.id), item.name).result()
        elif item.kind.lower() == SITE_TYPE.lower():
            # Wait: the Flex Consumption plan cannot go while it still hosts the app.
            self.resources.resources.begin_delete_by_id(
                item.id, api_version=self._api_version(item.kind)).result()
        elif item.kind.lower() == DISK_TYPE.lower():
            self.compute.disks.begin_delete(_rg_of(item.id), item.name, polling=False)
        else:
            self.resources.resources.begin_delete_by_id(
                item.id, api_version=self._api_version(item.kind), polling=False)

    def _api_version(self, resource_type: str) -> str:
        """The newest stable API version of a type (generic delete needs one)."""
        if resource_type not in self._api_versions:
            namespace, _, rtype = resource_type.partition("/")
            provider = self.resources.providers.get(namespace)
            versions: Iterator[str] = iter(())
            for t in provider.resource_types or []:
                if t.resource_type.lower() == rtype.lower():
                    versions = iter(v for v in t.api_versions or [] if "preview" not in v)
            self._api_versions[resource_type] = max(versions, default="2021-04-01")
        return self._api_versions[resource_type]
