"""What the providers actually provision for a request, shared by the programs and the cost model.

A managed PostgreSQL bills the storage it was given, not the storage the scenario asked
for: Azure Flexible Server sells fixed sizes, RDS and Cloud SQL have minimums. The cloud
programs (stacks/cloud) ask the provider for `provisioned_db_storage_gb(...)` and the TCO
(scoring/tco.py) prices that same number, so the two can never disagree. It lives in core
because scoring may not import stacks.

Sources (read 2026-11):
- AWS: RDS API Reference, CreateDBInstance, AllocatedStorage: "RDS for PostgreSQL ...
  General Purpose (SSD) storage (gp2, gp3): Must be an integer from 20 to 65536" (GiB).
  https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html
- Azure: "Storage options in Azure Database for PostgreSQL - Flexible Server": Premium
  SSD comes in dedicated sizes (P4 32 GiB ... P80 32 TiB; the API's largest value is
  32767); "Compute and storage options": storage size 32 GB to 32 TB.
  https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-storage
- GCP: Cloud SQL Admin API, Settings.dataDiskSizeGb: "The data disk size minimum is
  10GB"; Cloud SQL quotas and limits: storage up to 64 TB (taken as 65,536 GB).
  https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances
  https://cloud.google.com/sql/docs/quotas
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import BakeoffError


class ProviderLimitError(BakeoffError):
    """A request the provider cannot provision at any size (e.g. more than its maximum)."""

    exit_code = 2


@dataclass(frozen=True)
class DbStorageRule:
    """How one managed PostgreSQL turns requested GB into provisioned GB."""

    service: str
    minimum: int
    maximum: int
    sizes: tuple[int, ...] = ()  # fixed sizes sold; empty: any whole number in range
    unit: str = "GiB"

    def provision(self, requested: float) -> int:
        """The smallest size the provider sells that holds `requested` (whole units)."""
        want = max(math.ceil(requested), self.minimum)
        if want > self.maximum:
            raise ProviderLimitError(
                f"database storage_gb {requested:g}: {self.service} provisions at most "
                f"{self.maximum} {self.unit}; ask for less")
        if not self.sizes:
            return want
        return next(s for s in self.sizes if s >= want)

    def describe(self) -> str:
        if self.sizes:
            return f"{self.service} sells {', '.join(map(str, self.sizes))} {self.unit} only"
        return f"{self.service}: whole {self.unit}, {self.minimum} to {self.maximum}"


DB_STORAGE: dict[str, DbStorageRule] = {
    "aws": DbStorageRule("RDS for PostgreSQL (gp3)", 20, 65536),
    "azure": DbStorageRule(
        "Azure Database for PostgreSQL Flexible Server (Premium SSD)", 32, 32767,
        sizes=(32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767)),
    "gcp": DbStorageRule("Cloud SQL for PostgreSQL (SSD)", 10, 65536, unit="GB"),
}


def provisioned_db_storage_gb(provider: str, requested: float) -> int:
    """The managed database storage a site gets for `database.storage_gb` on `provider`."""
    return DB_STORAGE[provider].provision(requested)


# GCP machine series that attach only Hyperdisk, boot disk included (no pd-* volume), and
# the Arm series (Compute Engine machine series pages; Arm on Compute Engine). The programs
# choose boot disks and images from them, the provider rules refuse a pd-* disk on them, and
# the like-for-like rule never picks such a series for a site whose disk type it cannot
# attach, so the priced shape is always one the program can provision.
GCP_HYPERDISK_ONLY = ("c4", "c4a", "c4d", "n4", "n4a", "n4d", "x4", "a4")
GCP_ARM_SERIES = ("t2a", "c4a", "n4a")
# The data disk a cloud site gets when it names no disk_type (programs and TCO alike).
DEFAULT_DISK_TYPE = {"aws": "gp3", "azure": "Premium_LRS", "gcp": "pd-balanced"}


def gcp_series(machine_type: str) -> str:
    return machine_type.split("-", 1)[0]


def attaches(provider: str, instance_type: str, disk_type: str | None) -> bool:
    """Whether `instance_type` can attach a data disk of `disk_type` (None: any, unasked)."""
    if provider != "gcp" or disk_type is None:
        return True
    return not (gcp_series(instance_type) in GCP_HYPERDISK_ONLY and disk_type.startswith("pd-"))

