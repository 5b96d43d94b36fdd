"""What a provisioner hands to the measuring side: an Environment of reachable hosts.

Like SkyPilot's clouds, provisioners are small, stateless classes behind one protocol.
They declare what they can do; anything unsupported is reported with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bench.campaign import Campaign, Site
    from bench.executors.base import Executor


@dataclass(frozen=True)
class Host:
    """A machine (or a slice of one) workloads run on. `address` is how peers reach it."""

    name: str
    zone: str
    address: str
    executor: Executor
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DatabaseEndpoint:
    """A PostgreSQL the site's workloads use (local temporary server or managed service)."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    kind: str  # "local-postgres", "rds", "cloudsql", "azure-flexible", ...

    @property
    def dsn(self) -> str:
        return (f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/"
                f"{self.dbname}")


@dataclass
class Environment:
    """A provisioned site: two hosts in two zones, an optional database, and notes."""

    site: str
    provider: str
    region: str
    instance_type: str
    hosts: dict[str, Host]
    database: DatabaseEndpoint | None = None
    network: str = "loopback"  # how client and server are joined: netns-veth | loopback | vpc
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def client(self) -> Host:
        return self.hosts["client"]

    @property
    def server(self) -> Host:
        return self.hosts["server"]


@dataclass(frozen=True)
class PlannedResource:
    kind: str
    name: str
    detail: str = ""


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do; `unsupported` maps a feature to the reason it is not."""

    zones: bool = True
    managed_database: bool = False
    spot: bool = False
    unsupported: dict[str, str] = field(default_factory=dict)


class Provisioner(Protocol):
    """plan → up → down, plus leftovers for garbage collection by campaign tag."""

    name: str
    capabilities: Capabilities

    def check(self, site: Site) -> None:
        """Raise PrerequisiteError naming what is missing (CLI, credentials, root)."""

    def plan(self, site: Site, campaign: Campaign) -> list[PlannedResource]: ...

    def up(self, site: Site, campaign: Campaign, campaign_id: str = "adhoc",
           index: int = 0) -> Environment: ...

    def down(self, env: Environment) -> None: ...

    def leftovers(self, campaign_id: str) -> list[str]: ...
