"""What a provisioner hands to the measuring side: an Environment of reachable hosts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.executor import Executor


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
